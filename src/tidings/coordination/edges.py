"""From co-action pairs to edges: one row per (account pair, window), scored and thresholded.

Per pair and key, the closest Δt decides the windows the key counts in (a key shared 5 s apart
counts at 10 s and every longer window). Per (pair, window):

- ``weight``: distinct keys co-acted on within the window (``w_<kind>`` per kind);
- ``pairs``: co-actions (pairs of posts) within the window, all keys together;
- ``min_dt_s`` and ``median_dt_s``: the smallest, and the (lower) median, of the per-key
  closest Δt, in seconds;
- ``score``: the null-model surprise (:mod:`tidings.coordination.score`); ``significant``: the
  score reaches the window's threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyarrow as pa

from ..engine import Engine
from .actions import KIND_CODES, KINDS
from .join import implied_pairs_filter
from .score import SCALE, Threshold, key_surprise_sql

__all__ = ["EDGE_SCHEMA", "build_edges", "edge_table"]

EDGE_SCHEMA = pa.schema(
    [
        ("account_a", pa.string()),
        ("account_b", pa.string()),
        ("window_s", pa.int64()),
        ("weight", pa.int64()),
        *[(f"w_{k}", pa.int64()) for k in KINDS],
        ("pairs", pa.int64()),
        ("min_dt_s", pa.float64()),
        ("median_dt_s", pa.float64()),
        ("score", pa.float64()),
        ("significant", pa.bool_()),
    ]
)
"""Columns of ``edges.parquet`` (DESIGN §4 plus ``w_`` for every kind and ``significant``)."""


def pairs_source(kinds: Sequence[str]) -> str:
    """The co-action pairs, one near-duplicate match per pair of posts."""
    if "near_text" in kinds:
        return f"({implied_pairs_filter()})"
    return "co_pairs"


def build_edges(
    engine: Engine, *, windows: Sequence[int], kinds: Sequence[str], span_s: float
) -> dict[int, int]:
    """Materialise ``co_pk`` (pair × key) and ``co_edges_all`` (pair × window, every weight).

    Returns the number of candidate pairs (weight ≥ 1) per window.
    """
    counts = ", ".join(
        f"count(*) FILTER (WHERE dt <= {w * 1_000_000}) AS n{i}" for i, w in enumerate(windows)
    )
    engine.materialize(
        "co_pk",
        f"SELECT kind, key_h, aid_a, aid_b, min(dt) AS dt_min, {counts} "
        f"FROM {pairs_source(kinds)} GROUP BY kind, key_h, aid_a, aid_b",
    )
    engine.register_arrow(
        "co_windows",
        pa.table(
            {
                "window_s": pa.array(list(windows), pa.int64()),
                "window_us": pa.array([w * 1_000_000 for w in windows], pa.int64()),
            }
        ),
    )
    n_pairs = " ".join(f"WHEN {w} THEN pk.n{i}" for i, w in enumerate(windows))
    per_kind = ", ".join(f"count(*) FILTER (WHERE kind = {KIND_CODES[k]}) AS w_{k}" for k in KINDS)
    surprise = key_surprise_sql("k.n", "w.window_s", span_s)
    engine.materialize(
        "co_edges_all",
        f"SELECT aid_a, aid_b, window_s, count(*) AS weight, {per_kind}, "
        "CAST(sum(n_pairs) AS BIGINT) AS pairs, min(dt_min) AS min_dt, "
        "CAST(sum(s) AS BIGINT) AS score_i FROM ("
        f"SELECT pk.aid_a, pk.aid_b, w.window_s, pk.kind, pk.dt_min, "
        f"CASE w.window_s {n_pairs} END AS n_pairs, {surprise} AS s "
        "FROM co_pk pk JOIN co_keys k ON k.kind = pk.kind AND k.key_h = pk.key_h "
        "JOIN co_windows w ON pk.dt_min <= w.window_us"
        ") GROUP BY aid_a, aid_b, window_s",
    )
    rows = engine.arrow("SELECT window_s, count(*) AS n FROM co_edges_all GROUP BY window_s")
    found = dict(
        zip(rows.column("window_s").to_pylist(), rows.column("n").to_pylist(), strict=True)
    )
    return {w: int(found.get(w, 0)) for w in windows}


def edge_table(engine: Engine, *, thresholds: Sequence[Threshold], min_weight: int) -> pa.Table:
    """The edges with ``weight ≥ min_weight`` as Arrow (sorted by window, then accounts)."""
    # Integer comparison: the score is an exact sum of integers, the threshold is rounded up.
    cuts = " ".join(f"WHEN {t.window_s} THEN {math.ceil(t.value * SCALE)}" for t in thresholds)
    kinds = ", ".join(f"e.w_{k}" for k in KINDS)
    # The median is a holistic aggregate: computed for the written edges of weight 2 and more
    # only (with one key, the median is the minimum), not for every candidate pair.
    engine.materialize(
        "co_edges_out",
        f"SELECT * FROM co_edges_all WHERE weight >= {min_weight}",
    )
    engine.materialize(
        "co_edges_median",
        "SELECT pk.aid_a, pk.aid_b, w.window_s, "
        "CAST(quantile_disc(pk.dt_min, 0.5) AS BIGINT) AS median_dt FROM co_pk pk "
        "JOIN (SELECT DISTINCT aid_a, aid_b FROM co_edges_out WHERE weight > 1) o "
        "ON o.aid_a = pk.aid_a AND o.aid_b = pk.aid_b "
        "JOIN co_windows w ON pk.dt_min <= w.window_us "
        "GROUP BY pk.aid_a, pk.aid_b, w.window_s",
    )
    table = engine.arrow(
        "SELECT aa.account_id AS account_a, ab.account_id AS account_b, e.window_s, e.weight, "
        f"{kinds}, e.pairs, CAST(e.min_dt AS DOUBLE) / 1e6 AS min_dt_s, "
        "CAST(CASE WHEN e.weight = 1 THEN e.min_dt ELSE m.median_dt END AS DOUBLE) / 1e6 "
        "AS median_dt_s, "
        f"CAST(e.score_i AS DOUBLE) / {float(SCALE)!r} AS score, "
        f"e.score_i >= CASE e.window_s {cuts} END AS significant "
        "FROM co_edges_out e LEFT JOIN co_edges_median m ON m.aid_a = e.aid_a "
        "AND m.aid_b = e.aid_b AND m.window_s = e.window_s "
        "JOIN co_accounts aa ON aa.aid = e.aid_a "
        "JOIN co_accounts ab ON ab.aid = e.aid_b "
        "ORDER BY e.window_s, account_a, account_b"
    )
    engine.drop("co_edges_median")
    engine.drop("co_edges_all")
    return table.cast(EDGE_SCHEMA)
