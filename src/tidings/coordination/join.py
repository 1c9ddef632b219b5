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

Output ``co_pairs``: ``kind, key_h, aid_a < aid_b, ts_a, ts_b, dt`` (µs, ``|ts_a - ts_b|``).
"""

from __future__ import annotations

import pyarrow as pa

from ..engine import Engine
from .actions import KIND_CODES

__all__ = ["build_pairs", "implied_pairs_filter"]

# A near-duplicate or domain match of two posts whose texts (URLs) are identical is the exact
# text (URL) match again: skip it here, where it costs nothing, rather than anti-join later.
_NOT_IMPLIED = "NOT coalesce(l.sub = r.sub, FALSE)"


def build_pairs(engine: Engine, *, bucket_s: int, cap: int, k: int) -> dict[str, int]:
    """Materialise ``co_keys``, ``co_rows`` and ``co_pairs`` from ``co_actions``."""
    b_us = bucket_s * 1_000_000

    def hot(col: str) -> str:
        return f"{col} > {cap}" if cap > 0 else "FALSE"

    counts: dict[str, int] = {}
    engine.materialize(
        "co_buckets",
        f"SELECT kind, key_h, ts // {b_us} AS b, count(*) AS c "
        "FROM co_actions GROUP BY kind, key_h, ts // " + str(b_us),
    )
    counts["keys"] = engine.materialize(
        "co_keys",
        f"SELECT kind, key_h, CAST(sum(c) AS BIGINT) AS n, max(c) AS max_c, "
        f"count(*) FILTER (WHERE {hot('c')}) AS hot_buckets FROM co_buckets GROUP BY kind, key_h",
    )
    # Keys acted on once can never pair: drop their rows before the join.
    counts["rows"] = engine.materialize(
        "co_rows",
        f"SELECT a.kind, a.key_h, a.aid, a.ts, a.sub, a.ts // {b_us} AS b, "
        f"{hot('bk.c')} AS hot, "
        "k.hot_buckets > 0 AS hot_key "
        "FROM co_actions a "
        "JOIN co_keys k ON k.kind = a.kind AND k.key_h = a.key_h "
        f"JOIN co_buckets bk ON bk.kind = a.kind AND bk.key_h = a.key_h AND bk.b = a.ts // {b_us} "
        "WHERE k.n > 1",
    )
    exact = (
        "SELECT l.kind, l.key_h, l.aid AS aid_l, r.aid AS aid_r, l.ts AS ts_l, r.ts AS ts_r "
        "FROM (SELECT kind, key_h, aid, ts, sub, b FROM co_rows WHERE NOT hot) l JOIN ("
        "SELECT kind, key_h, aid, ts, sub, b AS jb, 0 AS shift FROM co_rows WHERE NOT hot "
        "UNION ALL "
        "SELECT kind, key_h, aid, ts, sub, b + 1 AS jb, 1 AS shift FROM co_rows WHERE NOT hot"
        ") r ON l.kind = r.kind AND l.key_h = r.key_h AND l.b = r.jb "
        "WHERE ((r.shift = 0 AND l.aid < r.aid) OR (r.shift = 1 AND l.aid <> r.aid)) "
        f"AND abs(l.ts - r.ts) <= {b_us} AND {_NOT_IMPLIED}"
    )
    parts = [exact]
    if cap > 0:
        half = max(1, k // 2)
        engine.register_arrow(
            "co_offsets", pa.table({"off": pa.array(range(1, half + 1), pa.int64())})
        )
        engine.materialize(
            "co_hot_rows",
            "SELECT kind, key_h, aid, ts, sub, hot, CAST(row_number() OVER ("
            "PARTITION BY kind, key_h ORDER BY ts, aid) AS BIGINT) AS rn "
            "FROM co_rows WHERE hot_key",
        )
        parts.append(
            "SELECT l.kind, l.key_h, l.aid AS aid_l, r.aid AS aid_r, l.ts AS ts_l, r.ts AS ts_r "
            "FROM (SELECT h.kind, h.key_h, h.aid, h.ts, h.sub, h.hot, h.rn + o.off AS target "
            "FROM co_hot_rows h CROSS JOIN co_offsets o) l "
            "JOIN co_hot_rows r ON r.kind = l.kind AND r.key_h = l.key_h AND r.rn = l.target "
            f"WHERE (l.hot OR r.hot) AND l.aid <> r.aid AND r.ts - l.ts <= {b_us} "
            f"AND {_NOT_IMPLIED}"
        )
    union = " UNION ALL ".join(f"({p})" for p in parts)
    counts["row_pairs"] = engine.materialize(
        "co_pairs",
        "SELECT kind, key_h, "
        "CASE WHEN aid_l < aid_r THEN aid_l ELSE aid_r END AS aid_a, "
        "CASE WHEN aid_l < aid_r THEN aid_r ELSE aid_l END AS aid_b, "
        "CASE WHEN aid_l < aid_r THEN ts_l ELSE ts_r END AS ts_a, "
        "CASE WHEN aid_l < aid_r THEN ts_r ELSE ts_l END AS ts_b, "
        f"abs(ts_l - ts_r) AS dt FROM ({union})",
    )
    for name in ("co_rows", "co_buckets", "co_hot_rows", "co_offsets"):
        engine.drop(name)
    return counts


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
