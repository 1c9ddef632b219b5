"""Evidence: for every edge, a few of the co-actions that made it, to check by reading them.

Not the accounts' latest posts (which is what peers attach, CNT issue #34) but the pairs of posts
that acted together: for each edge's account pair, its closest co-action on each shared key,
the ``per_edge`` closest of those (ties broken by kind, key and time, so every engine picks the
same ones), with both post ids, the Δt, both apps, and the smallest window that contains it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from ..engine import Engine
from .actions import kind_name_sql
from .join import Tier, pairs_sql

__all__ = ["EVIDENCE_SCHEMA", "evidence_table"]

EVIDENCE_SCHEMA = pa.schema(
    [
        ("account_a", pa.string()),
        ("account_b", pa.string()),
        ("kind", pa.string()),
        ("key", pa.string()),
        ("post_a", pa.string()),
        ("post_b", pa.string()),
        ("dt_s", pa.float64()),
        ("app_a", pa.string()),
        ("app_b", pa.string()),
        ("window_s", pa.int64()),
    ]
)


def evidence_table(
    engine: Engine,
    *,
    windows: Sequence[int],
    per_edge: int,
    tiers: list[Tier],
    significant_only: bool = True,
) -> pa.Table:
    """Up to ``per_edge`` example co-actions for each pair with a significant edge (or, with
    ``significant_only=False``, any edge in the output)."""
    pairs = "co_sig_pairs" if significant_only else "co_edges_out"
    # The closest Δt per (pair, key) is in co_pk already: rank keys there, then fetch one
    # post pair at that Δt for each chosen key only (a join, not a sort of every pair).
    engine.materialize(
        "co_evidence_keys",
        "SELECT kind, key_h, key, aid_a, aid_b, dt_min, r2 FROM ("
        "SELECT pk.kind, pk.key_h, kn.key, pk.aid_a, pk.aid_b, pk.dt_min, row_number() OVER ("
        "PARTITION BY pk.aid_a, pk.aid_b ORDER BY pk.dt_min, pk.kind, kn.key) AS r2 "
        f"FROM co_pk pk JOIN (SELECT DISTINCT aid_a, aid_b FROM {pairs}) o "
        "ON o.aid_a = pk.aid_a AND o.aid_b = pk.aid_b "
        "JOIN co_keys kn ON kn.kind = pk.kind AND kn.key_h = pk.key_h"
        f") WHERE r2 <= {per_edge}",
    )
    # The two posts at that Δt: the join again, for the accounts of these edges only (a few
    # percent of the rows), earliest pair first.
    engine.materialize(
        "co_evidence_accounts",
        "SELECT aid_a AS aid FROM co_evidence_keys UNION SELECT aid_b FROM co_evidence_keys",
    )
    engine.materialize(
        "co_evidence",
        "SELECT * FROM (SELECT k.*, p.ts_a, p.ts_b, row_number() OVER ("
        "PARTITION BY k.aid_a, k.aid_b, k.r2 ORDER BY p.ts_a, p.ts_b) AS r1 "
        f"FROM co_evidence_keys k JOIN ({pairs_sql(tiers, 'co_evidence_accounts')}) p "
        "ON p.kind = k.kind AND p.key_h = k.key_h AND p.aid_a = k.aid_a AND p.aid_b = k.aid_b "
        "AND p.dt = k.dt_min) WHERE r1 = 1",
    )
    # The posts at those times, one side at a time: joined together, the optimiser would
    # link the two lookups to each other on (kind, key) alone, a product over busy keys.
    engine.materialize(
        "co_evidence_posts",
        "SELECT r.kind, r.key_h, r.aid, r.ts, min(r.post_id) AS post_id, min(r.app) AS app "
        "FROM co_rows_all r JOIN (SELECT kind, key_h, aid_a AS aid, ts_a AS ts FROM co_evidence "
        "UNION SELECT kind, key_h, aid_b, ts_b FROM co_evidence) e "
        "ON e.kind = r.kind AND e.key_h = r.key_h AND e.aid = r.aid AND e.ts = r.ts "
        "GROUP BY r.kind, r.key_h, r.aid, r.ts",
    )
    post = "co_evidence_posts"
    engine.materialize(
        "co_evidence_a",
        "SELECT c.*, p.post_id AS post_a, p.app AS app_a FROM co_evidence c "
        f"JOIN {post} p ON p.kind = c.kind AND p.key_h = c.key_h AND p.aid = c.aid_a "
        "AND p.ts = c.ts_a",
    )
    engine.materialize(
        "co_evidence_b",
        "SELECT c.*, p.post_id AS post_b, p.app AS app_b FROM co_evidence_a c "
        f"JOIN {post} p ON p.kind = c.kind AND p.key_h = c.key_h AND p.aid = c.aid_b "
        "AND p.ts = c.ts_b",
    )
    smallest = " ".join(f"WHEN c.dt_min <= {w * 1_000_000} THEN {w}" for w in sorted(windows))
    table = engine.arrow(
        "SELECT aa.account_id AS account_a, ab.account_id AS account_b, "
        f"{kind_name_sql('c.kind')} AS kind, c.key, c.post_a, c.post_b, "
        "CAST(c.dt_min AS DOUBLE) / 1e6 AS dt_s, c.app_a, c.app_b, "
        f"CASE {smallest} END AS window_s "
        "FROM co_evidence_b c "
        "JOIN co_accounts aa ON aa.aid = c.aid_a JOIN co_accounts ab ON ab.aid = c.aid_b "
        "ORDER BY account_a, account_b, c.r2"
    )
    for name in (
        "co_evidence",
        "co_evidence_a",
        "co_evidence_b",
        "co_evidence_keys",
        "co_evidence_accounts",
        "co_evidence_posts",
    ):
        engine.drop(name)
    return table.cast(EVIDENCE_SCHEMA)
