"""Campaigns in real troll-farm tweets (../shared, skipped when absent): the Internet Research
Agency's November 2015 food-poisoning hoax and its August 2016 hashtag games.

The expected accounts are derived here from the CSV files themselves, independently of tidings;
no tweet text appears in this file."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from conftest import shared_dataset
from tidings import Workspace, detect_campaigns, ingest

pytestmark = pytest.mark.realdata

IRA_MAP = {
    "account_id": "author_id",
    "account_name": "author_id",
    "text": "content",
    "created_at": "publish_date",
    "kind": "post_type",
    "lang": "language",
}
TAG = re.compile(r"#(\w+)")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run(tmp_path: Path, name: str) -> tuple[list[dict[str, str]], list[dict], list[dict]]:
    path = shared_dataset("ira_troll_tweets_sample") / name
    ws = Workspace.init(tmp_path / "ws")
    ingest(ws, [path], column_map=IRA_MAP, platform="twitter")
    result = detect_campaigns(ws, out=tmp_path / "out")
    return rows(path), result.campaigns.to_pylist(), result.members.to_pylist()


def members_of(members: list[dict], campaign_id: str) -> set[str]:
    return {m["account_id"] for m in members if m["campaign_id"] == campaign_id}


def test_the_november_2015_hoax_is_one_campaign_of_its_accounts(tmp_path: Path) -> None:
    data, campaigns, members = run(tmp_path, "fearmonger_all_tweets.csv")
    hoax = {
        r["author_id"]
        for r in data
        if r["publish_date"].startswith("2015-11") and "kochfarms" in r["content"].lower()
    }
    assert len(hoax) > 100
    found = [c for c in campaigns if "#kochfarms" in c["keys"]]
    assert len(found) == 1, [c["key"] for c in campaigns]
    (c,) = found
    got = members_of(members, c["campaign_id"])
    recall = len(got & hoax) / len(hoax)
    precision = len(got & hoax) / len(got)
    print(f"hoax: {c['kind']} {c['key']}, {len(got)} members, recall {recall:.3f}, "
          f"precision {precision:.3f}, {c['first_seen']} .. {c['last_seen']}")  # fmt: skip
    assert c["kind"] == "burst"
    assert recall >= 0.9 and precision >= 0.9
    assert (c["first_seen"].year, c["first_seen"].month) == (2015, 11)


def test_the_august_2016_hashtag_games_surface_as_hashtag_pushes(tmp_path: Path) -> None:
    data, campaigns, members = run(tmp_path, "window_2016-08-01_2016-08-14_english_categories.csv")
    gamers = {r["author_id"] for r in data if r["account_category"] == "HashtagGamer"}
    # A game: a tag with at least 200 posts, 90 % of them by HashtagGamer accounts, played
    # by at least 30 of them.
    posts: Counter[str] = Counter()
    by_gamers: Counter[str] = Counter()
    players: defaultdict[str, set[str]] = defaultdict(set)
    for r in data:
        for tag in {t.lower() for t in TAG.findall(r["content"])}:
            posts[tag] += 1
            if r["author_id"] in gamers:
                by_gamers[tag] += 1
                players[tag].add(r["author_id"])
    games = {
        t
        for t, n in posts.items()
        if n >= 200 and by_gamers[t] >= 0.9 * n and len(players[t]) >= 30
    }
    assert len(games) >= 8
    pushes = {key.lstrip("#"): c for c in campaigns if c["kind"] == "burst" for key in c["keys"]}
    surfaced = games & set(pushes)
    print(f"games: {len(surfaced)} of {len(games)} surfaced as hashtag pushes")
    assert len(surfaced) >= 0.9 * len(games)
    for tag in surfaced:
        got = members_of(members, pushes[tag]["campaign_id"])
        assert len(got & gamers) >= 0.8 * len(got), tag
