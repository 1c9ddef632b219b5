"""Communities of the thresholded co-action graph, and what each one has in common.

The graph has an edge between two accounts when they are significant at any window (the edge's
weight is its best score). Leiden (python-igraph, ``objective_function="modularity"``) splits it
into groups denser inside than chance; unlike connected components it does not chain two
groups through one stray edge. The seed is fixed and vertices are sorted, so the same edges
always give the same communities.

Per community (``community_summary.parquet``): size, significant edges inside and density, the
windows its edges were found at, the keys its members co-acted on most (``top_keys``), the apps
they posted from (``top_apps``, with shares: one rare app across a community is a signature),
and its Δt profile: quantiles of the closest Δt per shared key, and the share within 10 s and
60 s (a scheduler posts within seconds; friends who share links, within hours).
"""

from __future__ import annotations

import random
from typing import Any

import igraph as ig
import pyarrow as pa
import pyarrow.compute as pc

from ..engine import Engine
from .actions import kind_name_sql

__all__ = ["COMMUNITY_SCHEMA", "SUMMARY_SCHEMA", "find_communities", "summarize_communities"]

COMMUNITY_SCHEMA = pa.schema(
    [("account_id", pa.string()), ("community_id", pa.int64()), ("size", pa.int64())]
)

# Doubles, not decimals: Spark averages decimals as decimals, DuckDB as doubles.
_ONE, _ZERO = "CAST(1 AS DOUBLE)", "CAST(0 AS DOUBLE)"

_KEY = pa.struct([("kind", pa.string()), ("key", pa.string()), ("pairs", pa.int64())])
_APP = pa.struct([("app", pa.string()), ("posts", pa.int64()), ("share", pa.float64())])

SUMMARY_SCHEMA = pa.schema(
    [
        ("community_id", pa.int64()),
        ("size", pa.int64()),
        ("edges", pa.int64()),
        ("density", pa.float64()),
        ("windows", pa.list_(pa.int64())),
        ("top_keys", pa.list_(_KEY)),
        ("top_apps", pa.list_(_APP)),
        ("dt_p10_s", pa.float64()),
        ("dt_median_s", pa.float64()),
        ("dt_p90_s", pa.float64()),
        ("share_within_10s", pa.float64()),
        ("share_within_60s", pa.float64()),
    ]
)


def _graph_edges(edges: pa.Table) -> pa.Table:
    sig = edges.filter(edges.column("significant"))
    return sig.group_by(["account_a", "account_b"]).aggregate([("score", "max")])


def find_communities(
    edges: pa.Table, *, seed: int = 0, resolution: float = 1.0
) -> tuple[pa.Table, pa.Table]:
    """``(communities, graph edges)``: one row per account of a significant edge, and the graph."""
    graph = _graph_edges(edges).sort_by([("account_a", "ascending"), ("account_b", "ascending")])
    accounts = pc.unique(
        pa.concat_arrays(
            [graph.column("account_a").combine_chunks(), graph.column("account_b").combine_chunks()]
        )
    ).sort()
    if len(accounts) == 0:
        return COMMUNITY_SCHEMA.empty_table(), graph
    a = pc.index_in(graph.column("account_a"), value_set=accounts).to_numpy()
    b = pc.index_in(graph.column("account_b"), value_set=accounts).to_numpy()
    g = ig.Graph(n=len(accounts), edges=list(zip(a.tolist(), b.tolist(), strict=True)))
    previous: Any = random
    ig.set_random_number_generator(random.Random(seed))
    try:
        parts = g.community_leiden(
            objective_function="modularity",
            weights=graph.column("score_max").to_pylist(),
            resolution=resolution,
            n_iterations=-1,
        )
    finally:
        ig.set_random_number_generator(previous)
    membership = list(parts.membership)
    sizes: dict[int, int] = {}
    first: dict[int, int] = {}
    for i, m in enumerate(membership):
        sizes[m] = sizes.get(m, 0) + 1
        first.setdefault(m, i)
    # Biggest community first; ties by their first account, so ids are stable.
    order = sorted(sizes, key=lambda m: (-sizes[m], first[m]))
    renumber = {m: i for i, m in enumerate(order)}
    table = pa.table(
        {
            "account_id": accounts,
            "community_id": pa.array([renumber[m] for m in membership], pa.int64()),
            "size": pa.array([sizes[m] for m in membership], pa.int64()),
        }
    )
    return table.sort_by([("community_id", "ascending"), ("account_id", "ascending")]), graph


def summarize_communities(
    engine: Engine, communities: pa.Table, graph: pa.Table, *, windows_of: pa.Table, top: int = 5
) -> pa.Table:
    """The per-community summary (see the module doc). ``windows_of`` holds the significant
    edges (account_a, account_b, window_s)."""
    if communities.num_rows == 0:
        return SUMMARY_SCHEMA.empty_table()
    engine.register_arrow("co_members_in", communities.select(["account_id", "community_id"]))
    engine.materialize(
        "co_members",
        "SELECT a.aid, m.community_id FROM co_members_in m "
        "JOIN co_accounts a ON a.account_id = m.account_id",
    )
    engine.materialize(
        "co_intra",
        "SELECT m1.community_id, pk.kind, pk.key_h, pk.dt_min FROM co_pk pk "
        "JOIN co_members m1 ON m1.aid = pk.aid_a JOIN co_members m2 ON m2.aid = pk.aid_b "
        "WHERE m1.community_id = m2.community_id",
    )
    keys = engine.arrow(
        "SELECT community_id, kind, key, pairs FROM (SELECT c.community_id, "
        f"{kind_name_sql('c.kind')} AS kind, kn.key, c.pairs, row_number() OVER ("
        "PARTITION BY c.community_id ORDER BY c.pairs DESC, c.kind, kn.key) AS r FROM ("
        "SELECT community_id, kind, key_h, count(*) AS pairs FROM co_intra "
        "GROUP BY community_id, kind, key_h) c "
        "JOIN co_keys kn ON kn.kind = c.kind AND kn.key_h = c.key_h) "
        f"WHERE r <= {top} ORDER BY community_id, r"
    )
    apps = engine.arrow(
        "SELECT community_id, app, posts, share FROM (SELECT community_id, app, posts, "
        "posts / CAST(total AS DOUBLE) AS share, row_number() OVER ("
        "PARTITION BY community_id ORDER BY posts DESC, app) AS r FROM ("
        "SELECT m.community_id, coalesce(p.app, '') AS app, count(*) AS posts, "
        "sum(count(*)) OVER (PARTITION BY m.community_id) AS total "
        "FROM co_posts p JOIN co_members m ON m.aid = p.aid GROUP BY m.community_id, "
        "coalesce(p.app, ''))) "
        f"WHERE r <= {top} ORDER BY community_id, r"
    )
    dts = engine.arrow(
        "SELECT community_id, "
        "CAST(CAST(quantile_disc(dt_min, 0.1) AS BIGINT) AS DOUBLE) / 1e6 AS p10, "
        "CAST(CAST(quantile_disc(dt_min, 0.5) AS BIGINT) AS DOUBLE) / 1e6 AS p50, "
        "CAST(CAST(quantile_disc(dt_min, 0.9) AS BIGINT) AS DOUBLE) / 1e6 AS p90, "
        f"avg(CASE WHEN dt_min <= 10000000 THEN {_ONE} ELSE {_ZERO} END) AS s10, "
        f"avg(CASE WHEN dt_min <= 60000000 THEN {_ONE} ELSE {_ZERO} END) AS s60 "
        "FROM co_intra GROUP BY community_id"
    )
    for name in ("co_intra", "co_members", "co_members_in"):
        engine.drop(name)
    return _assemble(communities, graph, windows_of, keys, apps, dts)


def _assemble(
    communities: pa.Table,
    graph: pa.Table,
    windows_of: pa.Table,
    keys: pa.Table,
    apps: pa.Table,
    dts: pa.Table,
) -> pa.Table:
    member = dict(
        zip(
            communities.column("account_id").to_pylist(),
            communities.column("community_id").to_pylist(),
            strict=True,
        )
    )
    sizes: dict[int, int] = {}
    for c in member.values():
        sizes[c] = sizes.get(c, 0) + 1
    inside: dict[int, int] = {}
    for a, b in zip(
        graph.column("account_a").to_pylist(), graph.column("account_b").to_pylist(), strict=True
    ):
        if member[a] == member[b]:
            inside[member[a]] = inside.get(member[a], 0) + 1
    wins: dict[int, set[int]] = {}
    for a, b, w in zip(
        windows_of.column("account_a").to_pylist(),
        windows_of.column("account_b").to_pylist(),
        windows_of.column("window_s").to_pylist(),
        strict=True,
    ):
        if member.get(a) is not None and member.get(a) == member.get(b):
            wins.setdefault(member[a], set()).add(w)
    top_keys: dict[int, list[dict[str, Any]]] = {}
    for row in keys.to_pylist():
        top_keys.setdefault(row["community_id"], []).append(
            {"kind": row["kind"], "key": row["key"], "pairs": row["pairs"]}
        )
    top_apps: dict[int, list[dict[str, Any]]] = {}
    for row in apps.to_pylist():
        top_apps.setdefault(row["community_id"], []).append(
            {"app": row["app"], "posts": row["posts"], "share": row["share"]}
        )
    dt = {row["community_id"]: row for row in dts.to_pylist()}
    ids = sorted(sizes)
    empty: dict[str, Any] = {}

    def density(c: int) -> float:
        n = sizes[c]
        return 2 * inside.get(c, 0) / (n * (n - 1)) if n > 1 else 0.0

    return pa.table(
        {
            "community_id": pa.array(ids, pa.int64()),
            "size": pa.array([sizes[c] for c in ids], pa.int64()),
            "edges": pa.array([inside.get(c, 0) for c in ids], pa.int64()),
            "density": pa.array([density(c) for c in ids], pa.float64()),
            "windows": pa.array([sorted(wins.get(c, set())) for c in ids], pa.list_(pa.int64())),
            "top_keys": pa.array([top_keys.get(c, []) for c in ids], pa.list_(_KEY)),
            "top_apps": pa.array([top_apps.get(c, []) for c in ids], pa.list_(_APP)),
            "dt_p10_s": pa.array([dt.get(c, empty).get("p10") for c in ids], pa.float64()),
            "dt_median_s": pa.array([dt.get(c, empty).get("p50") for c in ids], pa.float64()),
            "dt_p90_s": pa.array([dt.get(c, empty).get("p90") for c in ids], pa.float64()),
            "share_within_10s": pa.array([dt.get(c, empty).get("s10") for c in ids], pa.float64()),
            "share_within_60s": pa.array([dt.get(c, empty).get("s60") for c in ids], pa.float64()),
        },
        schema=SUMMARY_SCHEMA,
    )
