"""The synthetic collection generator: deterministic, canonical, realistic, planted shapes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tidings import schema
from tidings._demo.planted import group_app_name
from tidings._demo.vocab import APP_CAMPAIGN_APP, BOMB_TAG, COMMUNITY_TAGS, TRENDS
from tidings.demo import Demo, DemoConfig, generate, write_demo

NOTHING = {
    "coordinated_groups": 0,
    "app_campaign": False,
    "bomb": False,
    "hijack": False,
    "viral_storm": False,
    "series": False,
}


@pytest.fixture(scope="module")
def demo() -> Demo:
    return generate(DemoConfig(n_posts=150_000, seed=7))


@pytest.fixture(scope="module")
def con(demo: Demo) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.register("posts", demo.posts)
    c.register("accounts", demo.accounts)
    for name, table in demo.truth.items():
        c.register(f"truth_{name}", table)
    # Planted posts with their event: `ev` is the event kind, `kind` the post's.
    c.execute(
        'CREATE VIEW planted AS SELECT p.*, e.kind AS ev, e."group", e.key, e.event_id '
        "FROM posts p JOIN truth_posts t USING (post_id) JOIN truth_events e USING (event_id)"
    )
    return c


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[object, ...]:
    rows = con.sql(sql).fetchall()
    assert len(rows) == 1
    return tuple(rows[0])


def test_same_seed_gives_identical_tables() -> None:
    a = generate(n_posts=20_000, seed=3, coordinated_groups=5)
    b = generate(n_posts=20_000, seed=3, coordinated_groups=5)
    c = generate(n_posts=20_000, seed=4, coordinated_groups=5)
    assert a.posts.equals(b.posts)
    assert a.accounts.equals(b.accounts)
    assert a.series.equals(b.series)
    assert a.truth.keys() == b.truth.keys()
    assert all(a.truth[k].equals(b.truth[k]) for k in a.truth)
    assert not a.posts.equals(c.posts)


def test_tables_follow_the_canonical_schemas(demo: Demo, con: duckdb.DuckDBPyConnection) -> None:
    assert demo.posts.schema == schema.POSTS
    assert demo.accounts.schema == schema.ACCOUNTS
    n, ids, bad_kind = one(
        con,
        "SELECT count(*), count(DISTINCT post_id), "
        f"count(*) FILTER (WHERE kind NOT IN {schema.POST_KINDS}) FROM posts",
    )
    assert n == ids and bad_kind == 0
    assert abs(n - 150_000) / 150_000 < 0.01
    # Lists never hold empty strings; tags and handles are lower-case without their sigil.
    empty, upper = one(
        con,
        "SELECT count(*) FILTER (WHERE x = ''), count(*) FILTER (WHERE x <> lower(x) "
        "OR x LIKE '#%' OR x LIKE '@%') FROM (SELECT unnest(hashtags || mentions) x FROM posts)",
    )
    assert empty == 0 and upper == 0
    assert one(con, "SELECT count(*) FROM (SELECT unnest(urls) u FROM posts) WHERE u = ''")[0] == 0
    # Every referenced post exists and is older; every author has a profile.
    dangling, backwards = one(
        con,
        "SELECT count(*) FILTER (WHERE o.post_id IS NULL), "
        "count(*) FILTER (WHERE o.created_at > r.created_at) FROM posts r "
        "LEFT JOIN posts o ON o.post_id = coalesce(r.repost_of, r.reply_to, r.quote_of) "
        "WHERE r.kind <> 'post'",
    )
    assert dangling == 0 and backwards == 0
    assert one(con, "SELECT count(*) FROM posts ANTI JOIN accounts USING (account_id)")[0] == 0
    assert demo.accounts.num_rows == len(pc.unique(demo.accounts["account_id"]))


def test_organic_background_is_heavy_tailed_and_realistic(con: duckdb.DuckDBPyConnection) -> None:
    top_share, mean_posts, median_posts = one(
        con,
        "WITH c AS (SELECT account_id, count(*) n FROM posts GROUP BY 1), "
        "r AS (SELECT n, row_number() OVER (ORDER BY n DESC) rk, count(*) OVER () tot FROM c) "
        "SELECT sum(n) FILTER (WHERE rk <= tot / 100) / sum(n), avg(n), median(n) FROM r",
    )
    assert float(top_share) > 0.2
    assert float(mean_posts) > 2 * float(median_posts)
    reposts, url_share = one(
        con,
        "SELECT avg((kind = 'repost')::int), "
        "avg((len(urls) > 0)::int) FILTER (WHERE kind = 'post') FROM posts",
    )
    assert 0.3 < float(reposts) < 0.4
    assert 0.2 < float(url_share) < 0.32
    delay = one(
        con,
        "SELECT median(epoch(r.created_at) - epoch(o.created_at)) FROM posts r "
        "JOIN posts o ON o.post_id = r.repost_of",
    )[0]
    assert 600 < float(delay) < 2400
    # Busy evenings, quiet nights.
    night, evening = one(
        con,
        "SELECT count(*) FILTER (WHERE hour(created_at) BETWEEN 2 AND 4), "
        "count(*) FILTER (WHERE hour(created_at) BETWEEN 17 AND 19) FROM posts",
    )
    assert evening > 3 * night
    # Several apps, Android about 45 %; both languages; Arabic spelling variants occur.
    android = one(con, "SELECT avg((source = 'Twitter for Android')::int) FROM posts")[0]
    assert 0.35 < float(android) < 0.5
    assert one(con, "SELECT count(DISTINCT source) FROM posts")[0] >= 15
    ar, diacritic = one(
        con,
        "SELECT avg((lang = 'ar')::int), count(*) FILTER (WHERE text LIKE '%\u064e%') FROM posts",
    )
    assert 0.3 < float(ar) < 0.6 and diacritic > 0
    # Links in text are t.co, one per post; the popular URL is shared all month.
    assert one(
        con,
        "SELECT count(*) = count(DISTINCT regexp_extract(text, 'https://t.co/\\w+')) FROM posts "
        "WHERE kind <> 'repost' AND text LIKE '%https://t.co/%'",
    )[0]
    days = one(
        con,
        "SELECT count(DISTINCT created_at::date) FROM posts WHERE list_contains(urls, ("
        "SELECT u FROM (SELECT unnest(urls) u FROM posts) GROUP BY u ORDER BY count(*) DESC "
        "LIMIT 1))",
    )[0]
    assert days >= 25
    # Organic exact duplicates exist (stock phrases) without any planting.
    assert one(con, "SELECT max(c) FROM (SELECT count(*) c FROM posts "
                    "WHERE kind = 'post' GROUP BY text)")[0] > 20  # fmt: skip


def test_app_campaign_is_200_accounts_x_30_texts_over_3_hours(
    con: duckdb.DuckDBPyConnection,
) -> None:
    n_events, n_accounts, apps, longest, shortest, links, copies = one(
        con,
        "SELECT count(DISTINCT key), count(DISTINCT account_id), count(DISTINCT source), "
        "max(span), min(span), count(DISTINCT tco), sum(n) FROM (SELECT key, account_id, source, "
        "regexp_extract(text, 'https://t.co/\\w+') tco, 1 n, "
        "epoch(max(created_at) OVER (PARTITION BY key)) - epoch(min(created_at) OVER "
        "(PARTITION BY key)) span FROM planted WHERE ev = 'app_campaign')",
    )
    assert n_events == 30 and n_accounts == 200 and apps == 1
    assert shortest > 2.5 * 3600 and longest <= 3 * 3600
    assert links == copies  # each copy has its own t.co link
    per_text = con.sql(
        "SELECT count(DISTINCT account_id) FROM planted WHERE ev = 'app_campaign' GROUP BY key"
    ).fetchall()
    assert all(150 <= r[0] <= 200 for r in per_text)
    # The app is rare: nobody but the campaign uses it.
    assert (
        one(
            con,
            f"SELECT count(*) FROM posts WHERE source = '{APP_CAMPAIGN_APP}' "
            "AND post_id NOT IN (SELECT post_id FROM truth_posts)",
        )[0]
        == 0
    )
    # The campaign's accounts were created in a few tight clusters.
    clusters = one(
        con,
        "SELECT count(DISTINCT created_at::date) FROM accounts WHERE account_id IN "
        "(SELECT account_id FROM truth_accounts WHERE label = 'app')",
    )[0]
    assert clusters <= 9


def test_coordinated_groups_act_together_within_seconds(
    demo: Demo, con: duckdb.DuckDBPyConnection
) -> None:
    sizes = con.sql(
        "SELECT count(*), count(DISTINCT account_id) FROM truth_accounts "
        "WHERE label = 'coordinated' GROUP BY \"group\""
    ).fetchall()
    assert len(sizes) == 50
    assert all(5 <= n <= 30 and n == d for n, d in sizes)
    members = con.sql("SELECT account_id FROM truth_accounts").to_arrow_table()
    assert members.num_rows == len(pc.unique(members["account_id"]))  # groups are disjoint
    # Identical text and URL shares: within 10-60 s; reposts follow their seed post.
    spans = con.sql(
        'SELECT "group", max(s) FROM (SELECT "group", key, epoch(max(created_at)) - '
        "epoch(min(created_at)) s FROM planted WHERE kind <> 'repost' AND \"group\" LIKE "
        "'coord-%' AND key NOT SIMILAR TO '[0-9]+' GROUP BY ALL) GROUP BY 1"
    ).fetchall()
    assert len(spans) == 50 and all(s <= 60 for _, s in spans)
    participation = one(
        con,
        'SELECT avg(e.n_accounts / g.size) FROM truth_events e JOIN (SELECT "group", '
        'count(*) size FROM truth_accounts GROUP BY 1) g USING ("group") '
        "WHERE e.kind = 'coordinated'",
    )[0]
    assert 0.7 < float(participation) < 0.9
    group_apps = [group_app_name(g) for g in range(50)]
    own_app = one(
        con,
        f"SELECT avg((source IN {tuple(group_apps)})::int) FROM planted WHERE ev = 'coordinated'",
    )[0]
    assert 0.6 < float(own_app) < 0.8
    events = one(
        con,
        "SELECT min(n), max(n) FROM (SELECT count(*) n FROM truth_events "
        "WHERE kind = 'coordinated' GROUP BY \"group\")",
    )
    assert events[0] >= 3
    variants = one(
        con,
        "SELECT count(DISTINCT text) FROM planted WHERE ev = 'coordinated' "
        "AND key = (SELECT key FROM truth_events WHERE kind = 'coordinated' AND n_posts > 20 "
        "AND key LIKE '% %' LIMIT 1)",
    )[0]
    assert variants > 1  # copies come with variants (case, !!, mention, tag, dropped word)


def test_bomb_and_hijack(con: duckdb.DuckDBPyConnection) -> None:
    accounts, posts, span, tagged, created_days = one(
        con,
        "SELECT count(DISTINCT p.account_id), count(*), epoch(max(p.created_at)) - "
        f"epoch(min(p.created_at)), avg(list_contains(hashtags, '{BOMB_TAG.lower()}')::int), "
        "count(DISTINCT a.created_at::date) FROM planted p JOIN accounts a USING (account_id) "
        "WHERE p.ev = 'bomb'",
    )
    assert accounts == 9 and 800 <= posts <= 1000 and span <= 2 * 3600
    assert tagged == 1 and created_days <= 2
    trend, own = TRENDS[0].lower(), COMMUNITY_TAGS[0].lower()
    accounts, span, stacked, tags_lo, tags_hi = one(
        con,
        "SELECT count(DISTINCT account_id), epoch(max(created_at)) - epoch(min(created_at)), "
        f"avg((list_contains(hashtags, '{trend}') AND list_contains(hashtags, '{own}'))::int), "
        "min(len(hashtags)), max(len(hashtags)) FROM planted WHERE ev = 'hijack'",
    )
    assert 100 <= accounts <= 150 and span <= 3600 and stacked == 1
    assert tags_lo >= 4 and tags_hi <= 8
    # The hijacked tag trends organically on many days; the pushers use their tag every day.
    organic_days = one(
        con,
        f"SELECT count(DISTINCT created_at::date) FROM posts WHERE list_contains(hashtags, "
        f"'{trend}') AND post_id NOT IN (SELECT post_id FROM truth_posts)",
    )[0]
    assert organic_days >= 15
    own_users = one(
        con,
        f"SELECT count(DISTINCT account_id) FILTER (WHERE account_id NOT IN (SELECT account_id "
        f"FROM truth_accounts WHERE label = 'hijack')) FROM posts "
        f"WHERE kind = 'post' AND list_contains(hashtags, '{own}')",
    )[0]
    assert own_users == 0


def test_series_has_a_blocking_drop_and_a_surge(demo: Demo) -> None:
    con = duckdb.connect()
    con.register("s", demo.series)
    con.register("ev", demo.truth["series_events"])
    ratios = dict(
        con.sql(
            'SELECT s.signal, avg(value) FILTER (WHERE time >= ev.start AND time < ev."end") / '
            "avg(value) FILTER (WHERE time < ev.start) FROM s JOIN ev USING (signal) GROUP BY 1"
        ).fetchall()
    )
    assert 0.25 < ratios["facebook"] < 0.35 and ratios["twitter"] < 0.15
    assert 1.8 < ratios["whisper"] < 2.2 and 1.8 < ratios["vpn_interest"] < 2.2
    assert set(pc.unique(demo.series["signal"]).to_pylist()) >= {"facebook", "bgp_prefixes"}


def test_organic_only_has_nothing_planted() -> None:
    d = generate(n_posts=30_000, seed=2, **NOTHING)
    assert d.posts.num_rows == 30_000
    assert all(d.truth[k].num_rows == 0 for k in ("accounts", "posts", "events", "series_events"))
    assert d.series.num_rows == 0
    sources = set(pc.unique(d.posts["source"]).to_pylist())
    assert APP_CAMPAIGN_APP not in sources
    assert not sources & {group_app_name(g) for g in range(50)}
    tags = set(pc.unique(pc.list_flatten(d.posts["hashtags"])).to_pylist())
    assert BOMB_TAG.lower() not in tags and TRENDS[0].lower() in tags


def test_viral_storm_is_one_post_reposted_by_20000_accounts_in_15_minutes() -> None:
    d = generate(n_posts=60_000, seed=5, **{**NOTHING, "viral_storm": True})
    event = d.truth["events"].to_pylist()[0]
    reposts = d.posts.filter(pc.equal(d.posts["repost_of"], event["key"]))
    assert reposts.num_rows == 20_000 == len(pc.unique(reposts["account_id"]))
    t = reposts["created_at"].cast(pa.int64()).to_numpy() // 1_000_000
    assert t.max() - t.min() <= 15 * 60


def test_write_demo_round_trips(tmp_path: Path) -> None:
    d = generate(n_posts=10_000, seed=1, coordinated_groups=3)
    out = write_demo(d, tmp_path / "demo")
    assert pq.read_table(out / "posts.parquet").equals(d.posts)
    assert pq.read_table(out / "accounts.parquet").equals(d.accounts)
    assert pq.read_table(out / "series.parquet").equals(d.series)
    for name, table in d.truth.items():
        assert pq.read_table(out / "truth" / f"{name}.parquet").equals(table)
    assert not list(out.rglob(".*.tmp"))


def test_demo_collection_fixture_caches_per_parameters(demo_collection: object) -> None:
    make = demo_collection
    assert callable(make)
    a = make(n_posts=10_000, coordinated_groups=2)
    assert a == make(n_posts=10_000, coordinated_groups=2)
    assert a != make(n_posts=10_000, coordinated_groups=3)
    assert np.array_equal(
        pq.read_table(a / "posts.parquet")["post_id"].to_numpy(),
        generate(n_posts=10_000, coordinated_groups=2).posts["post_id"].to_numpy(),
    )
