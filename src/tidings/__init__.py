"""tidings: an observatory for online extremist campaigns and the network interference around them.

The public API is what ``__all__`` lists; everything else is private and may change.
"""

from __future__ import annotations

from ._version import __version__
from .errors import InputError, TidingsError, WorkspaceError
from .ingest import IngestResult, ingest
from .workspace import Run, Workspace

__all__ = [
    "IngestResult",
    "InputError",
    "Run",
    "TidingsError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "ingest",
]
