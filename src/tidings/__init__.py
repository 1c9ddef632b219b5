"""tidings: an observatory for online extremist campaigns and the network interference around them.

The public API is what ``__all__`` lists; everything else is private and may change.
"""

from __future__ import annotations

from ._version import __version__
from .demo import DemoConfig, generate, run_demo
from .errors import InputError, TidingsError, WorkspaceError
from .ingest import IngestResult, ingest
from .report import write_report
from .workspace import Run, Workspace

__all__ = [
    "DemoConfig",
    "IngestResult",
    "InputError",
    "Run",
    "TidingsError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "generate",
    "ingest",
    "run_demo",
    "write_report",
]
