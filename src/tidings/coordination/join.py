"""The windowed co-action join: every pair of action rows with the same (kind, key), different
accounts and |Δt| ≤ W, for several windows in one pass, with hot keys bounded.

**Exact join by buckets** (DESIGN §5). With ``B`` the largest window, bucket ``b = ts // B``;
two rows within ``B`` of each other are in the same bucket or in adjacent ones. Joining each row
(left) against the rows of its own bucket (keeping ``account_l < account_r``) and against the
previous bucket's rows shifted by one (keeping ``account_l ≠ account_r``) is an equi-join that
finds every pair exactly once. Smaller windows are filters on the same pairs (``|Δt| ≤ W``), so
all windows cost one join.

**Hot keys.** A key acted on by thousands of accounts in one bucket (a viral post, a popular
site) would produce ``c²`` pairs: one post reposted by 20,000 accounts in 15 minutes gives 10⁸
pairs, more than the whole rest of a collection. Rows in a (key, bucket) holding more than
``cap`` rows are *hot*; pairs involving a hot row are not enumerated but bounded: the key's
rows are ranked by time, and each row pairs with its ``k/2`` successors (so with its ``k``
nearest neighbours in time, ``k/2`` on each side). That keeps tight bursts inside a viral item
(a group reposting within seconds sits next to itself in time order) at a cost of ``n·k/2``
pairs instead of ``n²``. Every bounded key is reported (``hot_keys.parquet``), and the score
(:mod:`tidings.coordination.score`) down-weights popular keys further. ``cap = 0`` switches
bounding off (exact, unbounded: the peer-parity comparison does this).

Output, the view ``co_pairs``: ``kind, key_h, aid_a < aid_b, ts_a, ts_b, dt`` (µs,
``|ts_a - ts_b|``).
"""

from __future__ import annotations

import pyarrow as pa

from ..engine import Engine
from .actions import KIND_CODES

__all__ = [
    "Tier",
    "build_pairs",
    "drop_pairs",
    "implied_pairs_filter",
    "pairs_sql",
    "plan_tiers",
]

# A near-duplicate or domain match of two posts whose texts (URLs) are identical is the exact
# text (URL) match again: skip it here, where it costs nothing, rather than anti-join later.
_NOT_IMPLIED = "NOT coalesce(l.sub = r.sub, FALSE)"


class Tier:
    """One pass of the join: pairs with ``floor_s < Δt ≤ bucket_s`` among ``kinds``, with
    (key, bucket) above ``cap`` rows bounded to ``k`` nearest neighbours."""

    def __init__(
        self, name: str, bucket_s: int, floor_s: int, cap: int, k: int, kinds: list[int]
    ) -> None:
        self.name = name
        self.bucket_s = bucket_s
        self.floor_s = floor_s
        self.cap = cap
        self.k = k
        self.kinds = kinds


def plan_tiers(
    windows: list[int],
    kinds: list[int],
    *,
    short_s: int,
    cap: int,
    cap_long: int,
    k: int,
    weak: list[int],
) -> list[Tier]:
    """Short windows (≤ ``short_s``) in one tier with every kind; longer windows in a second
    tier, without the ``weak`` kinds and with the stricter ``cap_long``."""
    short = [w for w in windows if w <= short_s]
    long = [w for w in windows if w > short_s]
    tiers = []
    if short:
        tiers.append(Tier("short", max(short), 0, cap, k, kinds))
    if long:
        strong = [c for c in kinds if c not in weak] if short else kinds
        if strong:
            floor = max(short) if short else 0
            tiers.append(Tier("long", max(long), floor, cap_long, k, strong))
    return tiers


def build_pairs(engine: Engine, tiers: list[Tier]) -> dict[str, int]:
    """Materialise ``co_keys`` (rows per key, and per tier the bounded buckets) and each tier's
    rows, and define the view ``co_pairs``. The pairs are never stored: the next stage
    aggregates them as they stream out of the join (at 10M posts, tens of millions of rows,
    most of them chance)."""
    counts: dict[str, int] = {}
    # Keys two rows share, hashed (strong 64 bits; band keys already are integers). Most keys
    # are unique (one text, one link), so hashing only these is a fraction of the work.
    near = KIND_CODES["near_text"]
    counts["keys"] = engine.materialize(
        "co_keys",
        f"SELECT kind, key, CASE WHEN kind = {near} THEN CAST(key AS BIGINT) "
        "ELSE strong_hash(key) END AS key_h, n FROM ("
        "SELECT kind, key, count(*) AS n FROM co_actions GROUP BY kind, key) WHERE n > 1",
    )
    counts["pairable_rows"] = engine.materialize(
        "co_rows_all",
        "SELECT a.kind, k.key_h, a.aid, a.ts, a.sub, a.post_id, a.app FROM co_actions a "
        "JOIN co_keys k ON k.kind = a.kind AND k.key = a.key",
    )
    bounded = []
    for t in tiers:
        b_us = t.bucket_s * 1_000_000
        hot = f"c > {t.cap}" if t.cap > 0 else "FALSE"
        in_tier = f"kind IN ({', '.join(map(str, t.kinds))})"
        engine.materialize(
            f"co_buckets_{t.name}",
            f"SELECT kind, key_h, ts // {b_us} AS b, count(*) AS c, {hot} AS hot "
            f"FROM co_rows_all WHERE {in_tier} GROUP BY kind, key_h, ts // {b_us}",
        )
        bounded.append(
            f"SELECT kind, key_h, '{t.name}' AS tier, {t.bucket_s} AS bucket_s, {t.cap} AS cap, "
            "count(*) AS buckets, max(c) AS max_c "
            f"FROM co_buckets_{t.name} WHERE hot GROUP BY kind, key_h"
        )
    engine.materialize("co_hot", " UNION ALL ".join(f"({b})" for b in bounded))
    for t in tiers:
        _tier_tables(engine, t)
        counts[f"rows_{t.name}"] = int(engine.scalar(f"SELECT count(*) FROM co_rows_{t.name}"))
    engine.view("co_pairs", pairs_sql(tiers))
    return counts


def _tier_tables(engine: Engine, t: Tier) -> None:
    b_us = t.bucket_s * 1_000_000
    rows = f"co_rows_{t.name}"
    engine.materialize(
        rows,
        f"SELECT a.kind, a.key_h, a.aid, a.ts, a.sub, a.ts // {b_us} AS b, bk.hot, "
        f"(h.kind IS NOT NULL) AS hot_key FROM co_rows_all a "
        f"JOIN co_buckets_{t.name} bk ON bk.kind = a.kind AND bk.key_h = a.key_h "
        f"AND bk.b = a.ts // {b_us} "
        f"LEFT JOIN (SELECT kind, key_h FROM co_hot WHERE tier = '{t.name}') h "
        "ON h.kind = a.kind AND h.key_h = a.key_h",
    )
    engine.drop(f"co_buckets_{t.name}")
    if t.cap <= 0:
        return
    half = max(1, t.k // 2)
    engine.register_arrow(
        f"co_offsets_{t.name}", pa.table({"off": pa.array(range(1, half + 1), pa.int64())})
    )
    engine.materialize(
        f"co_hot_rows_{t.name}",
        "SELECT kind, key_h, aid, ts, sub, hot, CAST(row_number() OVER ("
        f"PARTITION BY kind, key_h ORDER BY ts, aid) AS BIGINT) AS rn FROM {rows} WHERE hot_key",
    )


def pairs_sql(tiers: list[Tier], accounts: str | None = None) -> str:
    """SQL of the co-action pairs (``kind, key_h, aid_a, aid_b, ts_a, ts_b, dt``) from the
    tier tables; with ``accounts``, only pairs of accounts in that table (column ``aid``)."""
    only = f" AND aid IN (SELECT aid FROM {accounts})" if accounts else ""
    parts = []
    for t in tiers:
        b_us = t.bucket_s * 1_000_000
        rows = f"co_rows_{t.name}"
        dt_ok = f"abs(l.ts - r.ts) <= {b_us}"
        if t.floor_s > 0:  # pairs this close belong to the short windows' pass
            dt_ok += f" AND abs(l.ts - r.ts) > {t.floor_s * 1_000_000}"
        parts.append(
            "SELECT l.kind, l.key_h, l.aid AS aid_l, r.aid AS aid_r, l.ts AS ts_l, r.ts AS ts_r "
            f"FROM (SELECT kind, key_h, aid, ts, sub, b FROM {rows} WHERE NOT hot{only}) l JOIN ("
            f"SELECT kind, key_h, aid, ts, sub, b AS jb, 0 AS shift FROM {rows} "
            f"WHERE NOT hot{only} "
            "UNION ALL "
            f"SELECT kind, key_h, aid, ts, sub, b + 1 AS jb, 1 AS shift FROM {rows} "
            f"WHERE NOT hot{only}"
            ") r ON l.kind = r.kind AND l.key_h = r.key_h AND l.b = r.jb "
            "WHERE ((r.shift = 0 AND l.aid < r.aid) OR (r.shift = 1 AND l.aid <> r.aid)) "
            f"AND {dt_ok} AND {_NOT_IMPLIED}"
        )
        if t.cap > 0:
            hot_rows = f"co_hot_rows_{t.name}"
            # Ranks come from all of a key's rows; the account filter applies after them.
            parts.append(
                "SELECT l.kind, l.key_h, l.aid AS aid_l, r.aid AS aid_r, l.ts AS ts_l, "
                "r.ts AS ts_r FROM (SELECT h.kind, h.key_h, h.aid, h.ts, h.sub, h.hot, "
                f"h.rn + o.off AS target FROM {hot_rows} h CROSS JOIN co_offsets_{t.name} o "
                f"WHERE TRUE{only}) l "
                f"JOIN (SELECT * FROM {hot_rows} WHERE TRUE{only}) r "
                "ON r.kind = l.kind AND r.key_h = l.key_h AND r.rn = l.target "
                f"WHERE (l.hot OR r.hot) AND l.aid <> r.aid AND {dt_ok} AND {_NOT_IMPLIED}"
            )
    union = " UNION ALL ".join(f"({p})" for p in parts)
    return (
        "SELECT kind, key_h, "
        "CASE WHEN aid_l < aid_r THEN aid_l ELSE aid_r END AS aid_a, "
        "CASE WHEN aid_l < aid_r THEN aid_r ELSE aid_l END AS aid_b, "
        "CASE WHEN aid_l < aid_r THEN ts_l ELSE ts_r END AS ts_a, "
        "CASE WHEN aid_l < aid_r THEN ts_r ELSE ts_l END AS ts_b, "
        f"abs(ts_l - ts_r) AS dt FROM ({union})"
    )


def drop_pairs(engine: Engine, tiers: list[Tier]) -> None:
    """Free the join's inputs once the pairs have been aggregated."""
    engine.drop("co_pairs")
    for t in tiers:
        for name in ("co_rows", "co_hot_rows", "co_offsets"):
            engine.drop(f"{name}_{t.name}")


def implied_pairs_filter() -> str:
    """SQL of ``co_pairs`` with one near-duplicate match per pair of posts.

    Two near-identical texts share several band keys; counting each would let one act weigh
    several. The match keeps the smallest band key of the pair of posts.
    """
    near = KIND_CODES["near_text"]
    return (
        f"SELECT * FROM co_pairs WHERE kind <> {near} "
        "UNION ALL "
        f"SELECT kind, min(key_h) AS key_h, aid_a, aid_b, ts_a, ts_b, min(dt) AS dt "
        f"FROM co_pairs WHERE kind = {near} GROUP BY kind, aid_a, aid_b, ts_a, ts_b"
    )
