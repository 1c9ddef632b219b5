"""Coordination: who acts together, at several time scales, scored against chance.

``coordinate(workspace, out=...)`` runs :class:`Coordination` on a workspace's posts and records
the run; the pieces are documented in their modules: the action table (:mod:`.actions`), the
windowed join and hot keys (:mod:`.join`), the null model and threshold (:mod:`.score`), edges
(:mod:`.edges`), communities (:mod:`.communities`), evidence (:mod:`.evidence`) and exports
(:mod:`.export`).
"""

from __future__ import annotations

from .actions import EXACT_KINDS, KINDS
from .detector import DEFAULT_WINDOWS, Coordination, parse_window
from .run import CoordinationResult, coordinate

__all__ = [
    "DEFAULT_WINDOWS",
    "EXACT_KINDS",
    "KINDS",
    "Coordination",
    "CoordinationResult",
    "coordinate",
    "parse_window",
]
