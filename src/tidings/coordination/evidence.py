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
) -> pa.Table:
    """Up to ``per_edge`` example co-actions for each pair with an edge in the output."""
    smallest = " ".join(f"WHEN c.dt <= {w * 1_000_000} THEN {w}" for w in sorted(windows))
    # The closest Δt per (pair, key) is in co_pk already: rank keys there, then fetch one
    # post pair at that Δt for each chosen key only (a join, not a sort of every pair).
    engine.materialize(
        "co_evidence_keys",
        "SELECT kind, key_h, key, aid_a, aid_b, dt_min, r2 FROM ("
        "SELECT pk.kind, pk.key_h, kn.key, pk.aid_a, pk.aid_b, pk.dt_min, row_number() OVER ("
        "PARTITION BY pk.aid_a, pk.aid_b ORDER BY pk.dt_min, pk.kind, kn.key) AS r2 "
        "FROM co_pk pk JOIN (SELECT DISTINCT aid_a, aid_b FROM co_edges_out) o "
        "ON o.aid_a = pk.aid_a AND o.aid_b = pk.aid_b "
        "JOIN co_keynames kn ON kn.kind = pk.kind AND kn.key_h = pk.key_h"
        f") WHERE r2 <= {per_edge}",
    )
    engine.materialize(
        "co_evidence",
        "SELECT kind, key_h, key, aid_a, aid_b, ts_a, ts_b, dt, r2 FROM ("
        "SELECT k.kind, k.key_h, k.key, k.aid_a, k.aid_b, p.ts_a, p.ts_b, p.dt, k.r2, "
        "row_number() OVER (PARTITION BY k.aid_a, k.aid_b, k.r2 ORDER BY p.ts_a, p.ts_b) AS r1 "
        "FROM co_evidence_keys k JOIN co_pairs p ON p.kind = k.kind AND p.key_h = k.key_h "
        "AND p.aid_a = k.aid_a AND p.aid_b = k.aid_b AND p.dt = k.dt_min"
        ") WHERE r1 = 1",
    )
    # One side at a time: joined together, the optimiser links the two lookups to each other
    # on (kind, key) alone, a product over every busy key (measured: 125 s instead of 1 s).
    engine.materialize(
        "co_evidence_posts",
        "SELECT kind, key_h, aid, ts, min(post_id) AS post_id, min(app) AS app FROM ("
        "SELECT a.kind, a.key_h, a.aid, a.ts, a.post_id, a.app FROM co_actions a JOIN "
        "(SELECT DISTINCT kind, key_h, aid_a AS aid, ts_a AS ts FROM co_evidence UNION "
        "SELECT DISTINCT kind, key_h, aid_b AS aid, ts_b AS ts FROM co_evidence) e "
        "ON e.kind = a.kind AND e.key_h = a.key_h AND e.aid = a.aid AND e.ts = a.ts"
        ") GROUP BY kind, key_h, aid, ts",
    )
    engine.materialize(
        "co_evidence_a",
        "SELECT c.*, pa.post_id AS post_a, pa.app AS app_a FROM co_evidence c "
        "JOIN co_evidence_posts pa ON pa.kind = c.kind AND pa.key_h = c.key_h "
        "AND pa.aid = c.aid_a AND pa.ts = c.ts_a",
    )
    table = engine.arrow(
        "SELECT aa.account_id AS account_a, ab.account_id AS account_b, "
        f"{kind_name_sql('c.kind')} AS kind, c.key, c.post_a, pb.post_id AS post_b, "
        "CAST(c.dt AS DOUBLE) / 1e6 AS dt_s, c.app_a, pb.app AS app_b, "
        f"CASE {smallest} END AS window_s "
        "FROM co_evidence_a c "
        "JOIN co_evidence_posts pb ON pb.kind = c.kind AND pb.key_h = c.key_h "
        "AND pb.aid = c.aid_b AND pb.ts = c.ts_b "
        "JOIN co_accounts aa ON aa.aid = c.aid_a JOIN co_accounts ab ON ab.aid = c.aid_b "
        "ORDER BY account_a, account_b, c.r2"
    )
    for name in ("co_evidence_posts", "co_evidence_a"):
        engine.drop(name)
    engine.drop("co_evidence")
    engine.drop("co_evidence_keys")
    return table.cast(EVIDENCE_SCHEMA)
