"""What the report shows, as small plain tables computed by DuckDB over the workspace.

Every query aggregates (top-k, counts, buckets), so the report costs a few scans of the posts
whatever the collection's size, and only a few hundred values reach Python. Values stay raw here
(post text, names, URLs as found); escaping is the template's job, in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ..workspace import Workspace

TOP = 20
_HOST = r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/@?#]*@)?(?:www\.)?([^/?#:]+)"


@dataclass
class Table:
    """A titled table for display: column names and rows of plain values."""

    columns: list[str]
    rows: list[list[Any]]

    @classmethod
    def of(cls, rel: duckdb.DuckDBPyRelation) -> Table:
        return cls(list(rel.columns), [list(r) for r in rel.fetchall()])

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def __bool__(self) -> bool:
        return bool(self.rows)


@dataclass
class RunResults:
    """The newest finished run of one analysis kind, and the other runs of that kind."""

    run_id: str
    out_dir: Path
    started_at: Any
    params: str
    tables: dict[str, Table] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)
    network: dict[str, Any] | None = None


def one(con: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    rows = con.sql(sql).fetchall()
    return list(rows[0]) if rows else []


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    n, first, last, accounts, with_urls, with_tags = one(
        con,
        "SELECT count(*), min(created_at), max(created_at), count(DISTINCT account_id), "
        "count(*) FILTER (WHERE len(urls) > 0), count(*) FILTER (WHERE len(hashtags) > 0) "
        "FROM posts",
    )
    profiles = one(con, "SELECT count(DISTINCT account_id) FROM accounts")[0]
    return {
        "posts": n,
        "accounts": accounts,
        "profiles": profiles,
        "first": first,
        "last": last,
        "with_urls": with_urls,
        "with_hashtags": with_tags,
        "datasets": Table.of(
            con.sql(
                "SELECT dataset, count(*) AS posts, count(DISTINCT account_id) AS accounts, "
                "min(created_at) AS first, max(created_at) AS last FROM posts "
                "GROUP BY ALL ORDER BY posts DESC"
            )
        ),
        "platforms": Table.of(
            con.sql(
                "SELECT coalesce(platform, '(none)') AS platform, count(*) AS posts FROM posts "
                "GROUP BY ALL ORDER BY posts DESC"
            )
        ),
        "kinds": Table.of(
            con.sql(
                "SELECT coalesce(kind, '(none)') AS kind, count(*) AS posts FROM posts "
                "GROUP BY ALL ORDER BY posts DESC"
            )
        ),
        "langs": Table.of(
            con.sql(
                "SELECT coalesce(lang, '(none)') AS lang, count(*) AS posts FROM posts "
                f"GROUP BY ALL ORDER BY posts DESC LIMIT {TOP}"
            )
        ),
    }


def volume(con: duckdb.DuckDBPyConnection, first: Any, last: Any) -> tuple[str, Table]:
    """Posts per hour (per day beyond 120 days), by kind; times as UTC strings."""
    span_days = (last - first).total_seconds() / 86_400 if first and last else 0
    step = 3600 if span_days <= 120 else 86_400
    rel = con.sql(
        f"SELECT strftime(make_timestamp((epoch(created_at)::BIGINT // {step} * {step}) "
        "* 1000000), '%Y-%m-%d %H:%M') AS bucket, coalesce(kind, '(none)') AS kind, "
        "count(*) AS posts FROM posts GROUP BY ALL ORDER BY bucket, kind"
    )
    return ("hour" if step == 3600 else "day"), Table.of(rel)


def top_accounts(con: duckdb.DuckDBPyConnection) -> Table:
    return Table.of(
        con.sql(
            "WITH p AS (SELECT account_id, any_value(account_name) AS account_name, "
            "count(*) AS posts, round(avg((kind = 'repost')::INT), 2) AS repost_share, "
            "count(DISTINCT source) AS apps, min(created_at) AS first, max(created_at) AS last "
            f"FROM posts GROUP BY account_id ORDER BY posts DESC LIMIT {TOP}), "
            "a AS (SELECT account_id, any_value(display_name) AS display_name, "
            "max(followers) AS followers FROM accounts GROUP BY account_id) "
            "SELECT p.account_name, a.display_name, p.account_id, p.posts, p.repost_share, "
            "p.apps, a.followers, p.first, p.last FROM p LEFT JOIN a USING (account_id) "
            "ORDER BY p.posts DESC, p.account_id"
        )
    )


def hashtags(con: duckdb.DuckDBPyConnection) -> Table:
    return Table.of(
        con.sql(
            "SELECT h AS hashtag, count(*) AS posts, count(DISTINCT account_id) AS accounts "
            "FROM (SELECT unnest(hashtags) AS h, account_id FROM posts) "
            f"GROUP BY h ORDER BY posts DESC, h LIMIT {TOP}"
        )
    )


def domains(con: duckdb.DuckDBPyConnection) -> Table:
    return Table.of(
        con.sql(
            f"SELECT d AS domain, count(*) AS posts, count(DISTINCT account_id) AS accounts, "
            "count(DISTINCT u) AS urls, any_value(u) AS example "
            f"FROM (SELECT lower(regexp_extract(u, '{_HOST}', 1)) AS d, u, account_id FROM "
            "(SELECT unnest(urls) AS u, account_id FROM posts)) WHERE d <> '' "
            f"GROUP BY d ORDER BY posts DESC, d LIMIT {TOP}"
        )
    )


def apps(con: duckdb.DuckDBPyConnection) -> Table:
    return Table.of(
        con.sql(
            "SELECT source AS app, count(*) AS posts, count(DISTINCT account_id) AS accounts, "
            "round(count(*) / count(DISTINCT account_id), 1) AS posts_per_account FROM posts "
            f"WHERE source IS NOT NULL GROUP BY source ORDER BY posts DESC, app LIMIT {TOP}"
        )
    )


def quarantine(ws: Workspace) -> dict[str, Any]:
    with ws.catalog(read_only=True) as cat:
        total = one(cat, "SELECT count(*) FROM quarantine")[0]
        by = Table.of(
            cat.sql(
                "SELECT file, coalesce(field, '(record)') AS field, reason, count(*) AS records "
                "FROM quarantine GROUP BY ALL ORDER BY records DESC, file LIMIT 50"
            )
        )
        examples = Table.of(
            cat.sql(
                "SELECT file, record, coalesce(field, '(record)') AS field, reason, "
                "left(raw, 300) AS raw FROM quarantine ORDER BY file, record LIMIT 8"
            )
        )
        ingests = Table.of(
            cat.sql(
                "SELECT dataset, path, format, read, stored, duplicates, quarantined, "
                "finished_at FROM ingests ORDER BY finished_at DESC LIMIT 20"
            )
        )
    return {"total": total, "by": by, "examples": examples, "ingests": ingests}


def _latest(ws: Workspace, kind: str, needs: Sequence[str]) -> RunResults | None:
    runs = [
        r
        for r in ws.runs(kind=kind)
        if r.get("status") == "ok"
        and r.get("out_dir")
        and all((Path(r["out_dir"]) / f"{n}.parquet").is_file() for n in needs)
    ]
    if not runs:
        return None
    r = runs[0]
    return RunResults(
        run_id=r["run_id"],
        out_dir=Path(r["out_dir"]),
        started_at=r["started_at"],
        params=str(r.get("params") or ""),
        others=[o["run_id"] for o in runs[1:]],
    )


def _parquet(path: Path) -> str:
    return "read_parquet('" + str(path).replace("'", "''") + "')"


def _names(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _names AS SELECT account_id, "
        "any_value(account_name) AS name FROM posts GROUP BY account_id"
    )


def coordination(con: duckdb.DuckDBPyConnection, ws: Workspace) -> RunResults | None:
    """The newest coordination run: strongest pairs, largest communities, evidence, hot keys."""
    res = _latest(ws, "coordinate", ("edges", "communities"))
    if res is None:
        return None
    d = res.out_dir
    _names(con)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _edges AS SELECT * FROM {_parquet(d / 'edges.parquet')}"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _comm AS SELECT * FROM {_parquet(d / 'communities.parquet')}"
    )
    cols = con.sql("SELECT * FROM _edges LIMIT 0").columns
    order = "score DESC NULLS LAST, weight DESC" if "score" in cols else "weight DESC"
    kinds = [c for c in cols if c.startswith("w_")]
    extra = "".join(f", e.{c}" for c in [*kinds, "min_dt_s", "median_dt_s", "score"] if c in cols)
    res.counts = {
        "edges": one(con, "SELECT count(*) FROM _edges")[0],
        "accounts": one(con, "SELECT count(*) FROM _comm")[0],
        "communities": one(con, "SELECT count(DISTINCT community_id) FROM _comm")[0],
    }
    res.tables["communities"] = Table.of(
        con.sql(
            "SELECT c.community_id, count(*) AS accounts, "
            "string_agg(coalesce(n.name, c.account_id), ', ' ORDER BY coalesce(n.name, "
            "c.account_id)) FILTER (WHERE rk <= 12) AS members FROM (SELECT *, row_number() "
            "OVER (PARTITION BY community_id ORDER BY account_id) AS rk FROM _comm) c "
            "LEFT JOIN _names n USING (account_id) GROUP BY c.community_id "
            f"ORDER BY accounts DESC, c.community_id LIMIT {TOP}"
        )
    )
    res.tables["edges"] = Table.of(
        con.sql(
            "SELECT coalesce(na.name, e.account_a) AS account_a, "
            "coalesce(nb.name, e.account_b) AS account_b, e.weight"
            f"{extra} FROM _edges e LEFT JOIN _names na ON na.account_id = e.account_a "
            f"LEFT JOIN _names nb ON nb.account_id = e.account_b ORDER BY {order}, "
            f"e.account_a, e.account_b LIMIT {TOP}"
        )
    )
    if (d / "evidence.parquet").is_file():
        res.tables["evidence"] = Table.of(
            con.sql(
                "WITH top AS (SELECT account_a, account_b FROM _edges "
                f"ORDER BY {order}, account_a, account_b LIMIT 10) "
                "SELECT coalesce(na.name, v.account_a) AS account_a, "
                "coalesce(nb.name, v.account_b) AS account_b, v.kind, v.key, v.post_a, "
                f"v.post_b, v.dt_s FROM {_parquet(d / 'evidence.parquet')} v "
                "JOIN top USING (account_a, account_b) "
                "LEFT JOIN _names na ON na.account_id = v.account_a "
                "LEFT JOIN _names nb ON nb.account_id = v.account_b "
                "ORDER BY v.account_a, v.account_b, v.dt_s LIMIT 40"
            )
        )
    if (d / "hot_keys.parquet").is_file():
        hot = _parquet(d / "hot_keys.parquet")
        res.tables["hot_keys"] = Table.of(
            con.sql(f"SELECT * FROM {hot} ORDER BY rows DESC LIMIT {TOP}")
        )
    res.network = _network(con)
    return res


def _network(con: duckdb.DuckDBPyConnection, max_nodes: int = 300) -> dict[str, Any] | None:
    """Nodes and edges of the largest communities, laid out for a static chart."""
    top = con.sql(
        "WITH big AS (SELECT community_id FROM _comm GROUP BY 1 ORDER BY count(*) DESC, 1 "
        "LIMIT 12), nodes AS (SELECT c.account_id, c.community_id FROM _comm c "
        f"JOIN big USING (community_id) ORDER BY c.account_id LIMIT {max_nodes}) "
        "SELECT e.account_a, e.account_b, e.weight FROM _edges e "
        "JOIN nodes a ON a.account_id = e.account_a JOIN nodes b ON b.account_id = e.account_b "
        "ORDER BY e.account_a, e.account_b"
    ).fetchall()
    if not top:
        return None
    import igraph

    ids = sorted({a for a, _, _ in top} | {b for _, b, _ in top})
    index = {a: i for i, a in enumerate(ids)}
    g = igraph.Graph(n=len(ids), edges=[(index[a], index[b]) for a, b, _ in top])
    g.es["weight"] = [float(w) for _, _, w in top]
    # A fixed start (a circle) makes the layout, and so the report, reproducible.
    import math

    start = [
        [math.cos(2 * math.pi * i / len(ids)), math.sin(2 * math.pi * i / len(ids))]
        for i in range(len(ids))
    ]
    layout = g.layout_fruchterman_reingold(seed=start, weights="weight", niter=300)
    comm = dict(
        con.sql(
            "SELECT account_id, community_id FROM _comm WHERE account_id IN (SELECT unnest(?))",
            params=[ids],
        ).fetchall()
    )
    names = dict(
        con.sql(
            "SELECT account_id, name FROM _names WHERE account_id IN (SELECT unnest(?))",
            params=[ids],
        ).fetchall()
    )
    return {
        "x": [p[0] for p in layout.coords],
        "y": [p[1] for p in layout.coords],
        "label": [names.get(a) or a for a in ids],
        "community": [str(comm.get(a)) for a in ids],
        "edges": [(index[a], index[b]) for a, b, _ in top],
    }


def campaigns(con: duckdb.DuckDBPyConnection, ws: Workspace) -> RunResults | None:
    """The newest campaigns run: campaigns by score, with their busiest members."""
    res = _latest(ws, "campaigns", ("campaigns",))
    if res is None:
        return None
    d = res.out_dir
    _names(con)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _camp AS SELECT * FROM {_parquet(d / 'campaigns.parquet')}"
    )
    res.counts = {"campaigns": one(con, "SELECT count(*) FROM _camp")[0]}
    res.tables["by_kind"] = Table.of(
        con.sql(
            "SELECT kind, count(*) AS campaigns, sum(n_posts) AS posts, "
            "sum(n_accounts) AS accounts FROM _camp GROUP BY kind ORDER BY campaigns DESC, kind"
        )
    )
    res.tables["campaigns"] = Table.of(
        con.sql(
            "SELECT campaign_id, kind, label, key, n_accounts, n_posts, first_seen, last_seen, "
            "score FROM _camp ORDER BY score DESC NULLS LAST, n_posts DESC, campaign_id "
            f"LIMIT {TOP}"
        )
    )
    if (d / "campaign_members.parquet").is_file():
        members = _parquet(d / "campaign_members.parquet")
        res.tables["members"] = Table.of(
            con.sql(
                "WITH top AS (SELECT campaign_id FROM _camp ORDER BY score DESC NULLS LAST, "
                "n_posts DESC, campaign_id LIMIT 10), m AS (SELECT m.*, row_number() OVER "
                "(PARTITION BY m.campaign_id ORDER BY m.n_posts DESC, m.account_id) AS rk "
                f"FROM {members} m JOIN top USING (campaign_id)) "
                "SELECT campaign_id, count(*) AS members, string_agg(coalesce(n.name, "
                "m.account_id) || ' (' || m.n_posts || ')', ', ' ORDER BY m.n_posts DESC, "
                "m.account_id) FILTER (WHERE rk <= 10) AS busiest FROM m "
                "LEFT JOIN _names n USING (account_id) GROUP BY campaign_id ORDER BY campaign_id"
            )
        )
    return res


def now() -> datetime:
    return datetime.now(UTC)
