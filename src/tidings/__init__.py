"""tidings: an observatory for online extremist campaigns and the network interference around them.

The public API is what ``__all__`` lists; everything else is private and may change.
"""

from __future__ import annotations

from ._version import __version__
from .campaigns import (
    AppProfiles,
    BurstDetector,
    CampaignResult,
    ContentCampaigns,
    HijackDetector,
    PostFrame,
    detect_campaigns,
)
from .coordination import Coordination, CoordinationResult, coordinate
from .demo import DemoConfig, generate, run_demo
from .demo_formats import write_twitter_v1_jsonl
from .errors import InputError, TidingsError, WorkspaceError
from .ingest import IngestResult, ingest
from .report import write_report
from .workspace import Run, Workspace

__all__ = [
    "AppProfiles",
    "BurstDetector",
    "CampaignResult",
    "ContentCampaigns",
    "Coordination",
    "CoordinationResult",
    "DemoConfig",
    "HijackDetector",
    "IngestResult",
    "InputError",
    "PostFrame",
    "Run",
    "TidingsError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "coordinate",
    "detect_campaigns",
    "generate",
    "ingest",
    "run_demo",
    "write_report",
    "write_twitter_v1_jsonl",
]
