"""From co-action pairs to edges: one row per (account pair, window), scored and thresholded.

Per pair and key, the closest Δt decides the windows the key counts in (a key shared 5 s apart
counts at 10 s and every longer window). Per (pair, window):

- ``weight``: distinct keys co-acted on within the window (``w_<kind>`` per kind);
- ``pairs``: co-actions (pairs of posts) within the window, all keys together;
- ``min_dt_s`` and ``median_dt_s``: the smallest, and the (lower) median, of the per-key
  closest Δt, in seconds;
- ``score``: the null-model surprise (:mod:`tidings.coordination.score`), the smaller of
  ``score_keys`` (how rare the shared keys are at this window) and ``score_activity`` (how
  unexpected the pair is given how much each account co-acts with anyone); ``significant``:
  the score reaches the window's threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..engine import Engine
from .actions import KIND_CODES, KINDS
from .join import implied_pairs_filter
from .score import SCALE, Threshold, activity_surprise, key_surprise_sql

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
        ("score_keys", pa.float64()),
        ("score_activity", pa.float64()),
    ]
)
"""Columns of ``edges.parquet`` (DESIGN §4 plus ``w_`` for every kind and ``significant``)."""


def pairs_source(kinds: Sequence[str]) -> str:
    """The co-action pairs, one near-duplicate match per pair of posts."""
    if "near_text" in kinds:
        return f"({implied_pairs_filter()})"
    return "co_pairs"


def build_edges(
    engine: Engine,
    *,
    windows: Sequence[int],
    kinds: Sequence[str],
    span_s: float,
    min_weight: int,
) -> tuple[dict[int, int], dict[str, int]]:
    """Materialise ``co_pk`` (pair × key) and ``co_edges_out`` (pair × window, weight ≥
    ``min_weight``). Returns the candidate pairs (weight ≥ 1) per window, and row counts.

    Most candidate pairs share one key (chance meetings); they are counted, for the threshold,
    but only pairs with ``min_weight`` keys or more are expanded into windows and aggregated.
    """
    counts = ", ".join(
        f"count(*) FILTER (WHERE dt <= {w * 1_000_000}) AS n{i}" for i, w in enumerate(windows)
    )
    engine.materialize(
        "co_pk",
        f"SELECT kind, key_h, aid_a, aid_b, min(dt) AS dt_min, {counts} "
        f"FROM {pairs_source(kinds)} GROUP BY kind, key_h, aid_a, aid_b",
    )
    stats: dict[str, int] = {}
    stats["row_pairs"] = int(engine.scalar(f"SELECT sum(n{len(windows) - 1}) FROM co_pk") or 0)
    engine.materialize(
        "co_pair_keys",
        "SELECT aid_a, aid_b, count(*) AS n, min(dt_min) AS m FROM co_pk GROUP BY aid_a, aid_b",
    )
    per_window = ", ".join(
        f"count(*) FILTER (WHERE m <= {w * 1_000_000}) AS c{i}" for i, w in enumerate(windows)
    )
    row = engine.arrow(f"SELECT {per_window} FROM co_pair_keys").to_pylist()[0]
    candidates = {w: int(row[f"c{i}"] or 0) for i, w in enumerate(windows)}
    engine.materialize(
        "co_multi",
        f"SELECT aid_a, aid_b FROM co_pair_keys WHERE n >= {min_weight}",
    )
    engine.drop("co_pair_keys")
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
    stats["edges"] = engine.materialize(
        "co_edges_out",
        f"SELECT aid_a, aid_b, window_s, count(*) AS weight, {per_kind}, "
        "CAST(sum(n_pairs) AS BIGINT) AS pairs, min(dt_min) AS min_dt, "
        "CAST(quantile_disc(dt_min, 0.5) AS BIGINT) AS median_dt, "
        "CAST(sum(s) AS BIGINT) AS score_i FROM ("
        f"SELECT pk.aid_a, pk.aid_b, w.window_s, pk.kind, pk.dt_min, "
        f"CASE w.window_s {n_pairs} END AS n_pairs, {surprise} AS s "
        "FROM co_pk pk JOIN co_multi m ON m.aid_a = pk.aid_a AND m.aid_b = pk.aid_b "
        "JOIN co_keys k ON k.kind = pk.kind AND k.key_h = pk.key_h "
        "JOIN co_windows w ON pk.dt_min <= w.window_us"
        f") GROUP BY aid_a, aid_b, window_s HAVING count(*) >= {min_weight}",
    )
    engine.drop("co_multi")
    # Co-actions per account and window (both sides of every pair-key), for the activity term.
    degrees = ", ".join(
        f"count(*) FILTER (WHERE dt_min <= {w * 1_000_000}) AS c{i}" for i, w in enumerate(windows)
    )
    engine.materialize(
        "co_degree",
        f"SELECT aid, {degrees} FROM (SELECT aid_a AS aid, dt_min FROM co_pk "
        "UNION ALL SELECT aid_b AS aid, dt_min FROM co_pk) GROUP BY aid",
    )
    return candidates, stats


def edge_table(
    engine: Engine, *, windows: Sequence[int], thresholds: Sequence[Threshold]
) -> pa.Table:
    """The edges as Arrow (sorted by window, then accounts), with both score terms."""
    kinds = ", ".join(f"e.w_{k}" for k in KINDS)
    deg = " ".join(f"WHEN {w} THEN {{side}}.c{i}" for i, w in enumerate(windows))
    table = engine.arrow(
        "SELECT aa.account_id AS account_a, ab.account_id AS account_b, e.window_s, e.weight, "
        f"{kinds}, e.pairs, CAST(e.min_dt AS DOUBLE) / 1e6 AS min_dt_s, "
        "CAST(e.median_dt AS DOUBLE) / 1e6 AS median_dt_s, e.score_i, e.aid_a, e.aid_b, "
        f"CASE e.window_s {deg.format(side='da')} END AS deg_a, "
        f"CASE e.window_s {deg.format(side='db')} END AS deg_b "
        "FROM co_edges_out e JOIN co_accounts aa ON aa.aid = e.aid_a "
        "JOIN co_accounts ab ON ab.aid = e.aid_b "
        "JOIN co_degree da ON da.aid = e.aid_a JOIN co_degree db ON db.aid = e.aid_b "
        "ORDER BY e.window_s, account_a, account_b"
    )
    sums = ", ".join(f"CAST(sum(c{i}) AS BIGINT)" for i in range(len(windows)))
    row = engine.arrow(f"SELECT {sums} FROM co_degree").to_pylist()[0]
    totals = {w: int(list(row.values())[i] or 0) // 2 for i, w in enumerate(windows)}
    window = table.column("window_s").to_numpy()
    weight = table.column("weight").to_numpy()
    deg_a = table.column("deg_a").to_numpy()
    deg_b = table.column("deg_b").to_numpy()
    keys_i = table.column("score_i").to_numpy()
    act_i = np.zeros(len(weight), dtype=np.int64)
    cut = np.zeros(len(weight), dtype=np.int64)
    for t in thresholds:
        at = window == t.window_s
        act_i[at] = activity_surprise(weight[at], deg_a[at], deg_b[at], totals[t.window_s])
        # Integer comparison: scores are exact integers, the threshold is rounded up.
        cut[at] = math.ceil(t.value * SCALE)
    score_i = np.minimum(keys_i, act_i)
    significant = score_i >= cut
    table = table.drop_columns(["score_i", "deg_a", "deg_b"])
    table = table.append_column("score", pa.array(score_i / float(SCALE)))
    table = table.append_column("significant", pa.array(significant))
    table = table.append_column("score_keys", pa.array(keys_i / float(SCALE)))
    table = table.append_column("score_activity", pa.array(act_i / float(SCALE)))
    sig = table.filter(table.column("significant")).select(["aid_a", "aid_b"])
    engine.register_arrow("co_sig_pairs", pa.table({
        "aid_a": sig.column("aid_a"), "aid_b": sig.column("aid_b")}).group_by(
        ["aid_a", "aid_b"]).aggregate([]))  # fmt: skip
    engine.drop("co_degree")
    return table.drop_columns(["aid_a", "aid_b"]).select(EDGE_SCHEMA.names).cast(EDGE_SCHEMA)
