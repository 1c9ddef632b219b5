"""``coordinate()``: the library call behind ``tidings coordinate``, recorded as a run."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import TidingsError
from ..workspace import Workspace
from .actions import KINDS
from .detector import DEFAULT_WINDOWS, Coordination, Progress, parse_window

__all__ = ["CoordinationResult", "coordinate"]


@dataclass
class CoordinationResult:
    """What a coordination run produced: the tables, where they are, and the run record."""

    run_id: str
    out_dir: Path
    files: dict[str, Path]
    edges: pa.Table
    communities: pa.Table
    community_summary: pa.Table
    evidence: pa.Table
    hot_keys: pa.Table
    summary: dict[str, Any] = field(default_factory=dict)

    def summary_line(self) -> str:
        """One line: what was found and where it is."""
        c = self.summary.get("counts", {})
        return (
            f"{c.get('posts', 0):,} posts, {c.get('actions', 0):,} actions -> "
            f"{c.get('edges', 0):,} edges ({c.get('significant_edges', 0):,} significant), "
            f"{c.get('communities', 0):,} communities of {c.get('community_accounts', 0):,} "
            f"accounts, {c.get('hot_keys', 0):,} hot keys bounded; results in {self.out_dir}"
        )


def coordinate(
    workspace: Workspace | str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    windows: Sequence[str | int | float] = DEFAULT_WINDOWS,
    min_weight: int = 2,
    kinds: Sequence[str] = KINDS,
    engine: str = "duckdb",
    spark_master: str | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> CoordinationResult:
    """Run :class:`Coordination` on a workspace's posts; record it as a run of kind
    ``"coordinate"`` whose output directory (``out``, default ``WS/runs/<run-id>``) holds
    ``edges``, ``communities``, ``community_summary``, ``evidence`` and ``hot_keys`` as Parquet.

    ``options`` are further :class:`Coordination` parameters (``hot_cap``, ``alpha``, …).
    ``spark_master`` (with ``engine="spark"``) runs on that Spark master instead of
    ``local[*]``.

    >>> result = coordinate("ws", out="ws/coord")          # doctest: +SKIP
    >>> result.edges.filter(result.edges["significant"])   # doctest: +SKIP
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    # Check what can be checked before a run is recorded: a bad option leaves no trace.
    windows = [parse_window(w) for w in windows]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise TidingsError(f"unknown kinds {', '.join(unknown)}; use {', '.join(KINDS)}")
    if not ws.table_files("posts"):
        raise TidingsError(f"{ws.path}: no posts in this workspace; ingest a collection first")
    detector = Coordination(windows=windows, min_weight=min_weight, kinds=kinds, **options)
    params = detector.get_params()
    engine_options: dict[str, Any] = {}
    if engine == "spark" and spark_master:
        engine_options["master"] = spark_master
        params["spark_master"] = spark_master
    run = ws.start_run("coordinate", params, out_dir=out, engine=engine)
    try:
        detector.fit(ws, engine=engine, progress=progress, **engine_options)
        files = detector.save(run.out_dir)
    except BaseException:
        ws.finish_run(run, status="failed")
        raise
    run.summary = detector.summary()
    ws.finish_run(run)
    return CoordinationResult(
        run_id=run.run_id,
        out_dir=run.out_dir,
        files=files,
        edges=detector.edges_,
        communities=detector.communities_,
        community_summary=detector.community_summary_,
        evidence=detector.evidence_,
        hot_keys=detector.hot_keys_,
        summary=run.summary,
    )
