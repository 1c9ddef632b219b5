"""Campaign detectors: app campaigns, content pushed by many accounts, Twitter bombs, hijacks.

The 2014 playbook that coordination windows miss (research/coordination.md §0, §5.3): an app
posting one text from hundreds of accounts spread over hours, a few accounts bombing a hashtag,
a trending tag hijacked. Each detector follows the scikit-learn pattern (parameters in
``__init__``, work in ``fit``, results in attributes ending in ``_``) and reads a
:class:`PostFrame`, the posts prepared once; :func:`detect_campaigns` runs them all on a
workspace and writes ``campaigns.parquet`` and ``campaign_members.parquet`` (DESIGN §4).

>>> from tidings import Workspace
>>> from tidings.campaigns import detect_campaigns
>>> result = detect_campaigns(Workspace("ws"), out="ws/campaigns")   # doctest: +SKIP
>>> result.campaigns.select(["kind", "label", "n_accounts"])          # doctest: +SKIP
"""

from __future__ import annotations

from .apps import AppProfiles
from .bursts import ENTITY_KINDS, BurstDetector
from .content import CONTENT_KINDS, ContentCampaigns
from .detect import CAMPAIGN_COLUMNS, CampaignResult, detect_campaigns
from .frame import PostFrame
from .hijack import HijackDetector

__all__ = [
    "CAMPAIGN_COLUMNS",
    "CONTENT_KINDS",
    "ENTITY_KINDS",
    "AppProfiles",
    "BurstDetector",
    "CampaignResult",
    "ContentCampaigns",
    "HijackDetector",
    "PostFrame",
    "detect_campaigns",
]
