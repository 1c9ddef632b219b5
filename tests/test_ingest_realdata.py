"""Real collections from ../shared/datasets through the generic and CooRTweet readers.

Every expected figure is computed here from the CSV with the csv module, independently of the
readers. The text of these files is real propaganda: nothing of it is printed or asserted on.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import shared_dataset
from tidings import Workspace
from tidings.cli import cli
from tidings.ingest import ingest

pytestmark = pytest.mark.realdata

FIFTH_TRIBE_MAP = {
    "account_id": "username",
    "account_name": "username",
    "created_at": "time",
    "text": "tweets",
    "display_name": "name",
    "followers": "followers",
    "statuses": "numberstatuses",
}
IRA_MAP = {
    "account_id": "author_id",
    "account_name": "author_id",
    "text": "content",
    "created_at": "publish_date",
    "kind": "post_type",
    "lang": "language",
    "followers": "followers",
    "following": "following",
    "statuses": "updates",
}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def scalar(ws: Workspace, sql: str) -> Any:
    return ws.connect().sql(sql).fetchall()[0][0]


def test_fifth_tribe_tweets(ws: Workspace) -> None:
    path = shared_dataset("isis_twitter_fifthtribe") / "tweets.csv"
    data = rows(path)
    # A post without an id is identified by (account, time, text): count those triples.
    keys = {(r["username"], r["time"], r["tweets"].strip(" ")) for r in data}
    users = {r["username"] for r in data}
    times = [datetime.strptime(r["time"], "%m/%d/%Y %H:%M").replace(tzinfo=UTC) for r in data]
    assert (len(data), len(keys), len(users)) == (17_410, 17_410, 111)

    res = ingest(ws, [path], column_map=FIFTH_TRIBE_MAP, platform="twitter")
    assert (res.read, res.stored, res.quarantined) == (len(data), len(keys), 0)
    assert res.derived_ids == len(data) and res.accounts == len(users)
    assert scalar(ws, "select count(distinct account_id) from posts") == len(users)
    got = ws.connect().sql("select min(created_at), max(created_at) from posts").fetchall()[0]
    assert got == (min(times), max(times))
    assert scalar(ws, "select count(*) from accounts") == len(users)
    # The most recent profile wins: the largest status count seen for each account.
    statuses: dict[str, int] = defaultdict(int)
    for r in data:
        statuses[r["username"]] = max(statuses[r["username"]], int(r["numberstatuses"]))
    stored = dict(ws.connect().sql("select account_id, statuses from accounts").fetchall())
    assert stored == statuses

    again = ingest(ws, [path], column_map=FIFTH_TRIBE_MAP, platform="twitter")
    assert (again.stored, again.duplicates, again.quarantined) == (0, len(data), 0)
    assert scalar(ws, "select count(*) from posts") == len(keys)


def test_coortweet_russian_retweets(ws: Workspace) -> None:
    path = shared_dataset("coortweet_package_data") / "russian_coord_tweets.csv"
    data = rows(path)
    first: dict[str, dict[str, str]] = {}
    for r in data:
        first.setdefault(r["content_id"], r)
    res = ingest(ws, [path])  # auto: recognised by its header
    assert res.files[0].format == "coortweet"
    assert (res.read, res.stored, res.duplicates, res.quarantined) == (
        len(data),
        len(first),
        len(data) - len(first),
        0,
    )
    assert scalar(ws, "select count(distinct account_id) from posts") == len(
        {r["account_id"] for r in data}
    )
    pairs = set(ws.connect().sql("select post_id, repost_of from posts").fetchall())
    assert pairs == {(c, r["object_id"]) for c, r in first.items()}
    assert scalar(ws, "select count(*) from posts where kind <> 'repost'") == 0


def test_coortweet_german_elections_long_table(ws: Workspace) -> None:
    path = shared_dataset("coortweet_package_data") / "german_elections.csv"
    data = rows(path)
    urls: dict[Any, set[str]] = defaultdict(set)
    tags: dict[Any, set[str]] = defaultdict(set)
    posts: set[Any] = set()
    for r in data:
        # Rows without a post id are identified by (account, time), having no text.
        key = r["post_id"] or (r["account_id"], r["timestamp"])
        posts.add(key)
        if r["url_id"]:
            urls[key].add(r["url_id"])
        if r["hashtag_id"]:
            tags[key].add(r["hashtag_id"])
    no_id = sum(1 for r in data if not r["post_id"])
    cmap = {
        "created_at": "timestamp",
        "urls": "url_id",
        "hashtags": "hashtag_id",
        "media": "phash_id",
    }
    res = ingest(ws, [path], column_map=cmap)
    assert (res.read, res.stored, res.quarantined) == (len(data), len(posts), 0)
    assert res.duplicates == len(data) - len(posts) and res.derived_ids == no_id
    # One row per post x object: the lists of a post's rows are merged, none is lost.
    assert scalar(ws, "select sum(len(urls)) from posts") == sum(map(len, urls.values()))
    assert scalar(ws, "select sum(len(hashtags)) from posts") == sum(map(len, tags.values()))
    some = next(k for k, v in urls.items() if isinstance(k, str) and v)
    got = ws.connect().sql(f"select urls, raw from posts where post_id = '{some}'").fetchall()
    assert set(got[0][0]) == urls[some]
    assert "domain_id" in json.loads(got[0][1])  # the unmapped column is kept in raw


@pytest.mark.parametrize(
    "name", ["fearmonger_all_tweets.csv", "window_2016-08-01_2016-08-14_english_categories.csv"]
)
def test_ira_troll_tweets(ws: Workspace, name: str) -> None:
    path = shared_dataset("ira_troll_tweets_sample") / name
    data = rows(path)
    first: dict[tuple[str, str, str], dict[str, str]] = {}
    for r in data:
        first.setdefault((r["author_id"], r["publish_date"], r["content"].strip(" ")), r)
    kinds = Counter(
        {"R": "repost", "Q": "quote", "": "post"}[r["post_type"]] for r in first.values()
    )
    english = sum(1 for r in first.values() if r["language"] == "English")
    res = ingest(ws, [path], column_map=IRA_MAP, platform="twitter")
    assert (res.read, res.stored, res.quarantined) == (len(data), len(first), 0)
    assert res.duplicates == len(data) - len(first)
    assert res.accounts == len({r["author_id"] for r in data})
    got = dict(ws.connect().sql("select kind, count(*) from posts group by 1").fetchall())
    assert got == dict(kinds)
    assert scalar(ws, "select count(*) from posts where lang = 'en'") == english
    times = [datetime.fromisoformat(r["publish_date"]).replace(tzinfo=UTC) for r in data]
    span = ws.connect().sql("select min(created_at), max(created_at) from posts").fetchall()[0]
    assert span == (min(times), max(times))
    categories = ws.connect().sql("select distinct raw->>'account_category' from posts")
    assert {c for (c,) in categories.fetchall()} == {r["account_category"] for r in data}


def test_cli_ingest_of_a_real_file(tmp_path: Path) -> None:
    path = shared_dataset("ira_troll_tweets_sample") / "fearmonger_all_tweets.csv"
    data = rows(path)
    distinct = len({(r["author_id"], r["publish_date"], r["content"].strip(" ")) for r in data})
    ws = Workspace.init(tmp_path / "ws")
    args = ["ingest", str(ws.path), str(path), "--platform", "twitter"]
    for field, column in IRA_MAP.items():
        args += ["--map", f"{field}={column}"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"{path}: read as generic CSV" in result.output
    summary = (
        f"read {len(data):,}, stored {distinct:,}, duplicates {len(data) - distinct:,}, "
        "quarantined 0"
    )
    assert summary in result.output
    assert f"{len(data):,} posts had no id and got one derived from (account, time, text)" in (
        result.output
    )
