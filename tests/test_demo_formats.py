"""Canonical posts written as Twitter v1.1 JSONL look like the API's tweets and read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from canonical_posts import CONTENT_FIELDS
from tidings import Workspace, ingest
from tidings.demo import DemoConfig, generate
from tidings.demo_formats import write_twitter_v1_jsonl

COMPARED = CONTENT_FIELDS


@pytest.fixture(scope="module")
def demo() -> tuple[pa.Table, pa.Table]:
    d = generate(DemoConfig(n_posts=20_000, seed=11))
    return d.posts, d.accounts


@pytest.fixture(scope="module")
def written(demo: tuple[pa.Table, pa.Table], tmp_path_factory: pytest.TempPathFactory) -> Path:
    posts, accounts = demo
    path = tmp_path_factory.mktemp("v1") / "tweets.jsonl"
    assert write_twitter_v1_jsonl(posts, path, accounts=accounts) == posts.num_rows
    return path


def _tweets(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _norm(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in COMPARED}
    for k in ("urls", "hashtags", "mentions", "media", "withheld_in"):
        out[k] = list(out[k] or [])
    out["created_at"] = out["created_at"].astimezone(UTC)
    return out


def test_round_trip_gives_back_the_same_posts_and_accounts(
    demo: tuple[pa.Table, pa.Table], written: Path, ws: Workspace
) -> None:
    posts, accounts = demo
    res = ingest(ws, [written], format="twitter")
    assert res.files[0].format == "twitter-v1"
    assert (res.stored, res.quarantined) == (posts.num_rows, 0)
    con = ws.connect()
    got = {
        r["post_id"]: _norm(r) for r in con.sql("select * from posts").to_arrow_table().to_pylist()
    }
    want = {r["post_id"]: _norm(r) for r in posts.to_pylist()}
    assert got.keys() == want.keys()
    mismatched = [pid for pid in want if got[pid] != want[pid]]
    assert not mismatched, (want[mismatched[0]], got[mismatched[0]])
    # Every kind and feature of the demo made the trip, so the comparison covered them.
    kinds = {r["kind"] for r in want.values()}
    assert kinds == {"post", "repost", "reply", "quote"}
    assert any(r["lat"] is not None for r in want.values())
    assert any(len(r["text"]) > 140 for r in want.values())
    assert any(r["media"] for r in want.values())

    stored = {
        r["account_id"]: r for r in con.sql("select * from accounts").to_arrow_table().to_pylist()
    }
    for a in accounts.to_pylist():
        if a["account_id"] not in stored:
            continue  # accounts that never post are not in a collection of tweets
        s = stored[a["account_id"]]
        for k in ("account_name", "display_name", "description", "followers", "following"):
            assert s[k] == a[k], k
        assert s["created_at"] == a["created_at"].replace(microsecond=0)
    authors = set(posts.column("account_id").to_pylist())
    assert authors <= stored.keys()


def test_tweets_look_like_the_v1_api(demo: tuple[pa.Table, pa.Table], written: Path) -> None:
    posts, _ = demo
    tweets = _tweets(written)
    by_id = {r["post_id"]: r for r in posts.to_pylist()}
    # Collected as a stream: in time order.
    times = [datetime.strptime(t["created_at"], "%a %b %d %H:%M:%S %z %Y") for t in tweets]
    assert times == sorted(times)
    rts = [t for t in tweets if "retweeted_status" in t]
    assert rts and all(t["text"].startswith("RT @") and len(t["text"]) <= 140 for t in rts)
    long_rt = [t for t in rts if len(by_id[t["id_str"]]["text"]) > 140]
    assert long_rt, "some retweet should have needed the embedded original for its full text"
    for t in long_rt:
        assert t["text"].endswith("…")
        original = t["retweeted_status"]
        full = original.get("extended_tweet", {}).get("full_text", original["text"])
        assert by_id[t["id_str"]]["text"] == f"RT @{original['user']['screen_name']}: {full}"
    # Only retweets carry the key: the others leave it out rather than set it to null.
    assert len(rts) == sum(1 for r in by_id.values() if r["repost_of"] is not None)
    for t in tweets:
        post = by_id[t["id_str"]]
        assert t["id"] == int(t["id_str"])
        assert t["user"]["id_str"] == post["account_id"]
        if post["source"] not in (None, "web"):
            assert t["source"].startswith("<a href=") and t["source"].endswith("</a>")
        urls = t["entities"]["urls"]
        assert [u["expanded_url"] for u in urls] == post["urls"]
        assert all(u["url"].startswith(("http://t.co/", "https://t.co/")) for u in urls)
        if post["lat"] is not None:
            assert t["coordinates"]["coordinates"] == [post["lon"], post["lat"]]
            assert t["geo"]["coordinates"] == [post["lat"], post["lon"]]
        if post["quote_of"] is not None:
            assert t["quoted_status_id_str"] == post["quote_of"]
            assert t["quoted_status"]["id_str"] == post["quote_of"]


def test_writer_without_accounts_and_with_absent_originals(tmp_path: Path, ws: Workspace) -> None:
    t0 = datetime(2014, 6, 11, 8, 0, tzinfo=UTC)
    rows = [
        {"post_id": "10", "account_id": "1", "account_name": "Ana", "created_at": t0,
         "text": "hello #World http://t.co/abc", "urls": ["https://example.org/a"],
         "hashtags": ["world"], "source": "web"},
        {"post_id": "11", "account_id": "2", "account_name": "bo", "created_at": t0,
         "text": "RT @gone: a tweet the collection missed", "repost_of": "999",
         "source": "R&D <bot>"},
    ]  # fmt: skip
    posts = _canonical(rows)
    path = tmp_path / "t.jsonl"
    assert write_twitter_v1_jsonl(posts, path) == 2
    first, second = _tweets(path)
    assert first["source"] == "web"  # the bare value of very old tweets
    assert first["entities"]["hashtags"] == [{"text": "World", "indices": [6, 12]}]
    assert first["entities"]["urls"][0]["url"] == "http://t.co/abc"
    assert first["entities"]["urls"][0]["indices"] == [13, 28]
    assert second["source"].endswith(">R&amp;D &lt;bot&gt;</a>")
    assert second["retweeted_status"] == {
        "id": 999,
        "id_str": "999",
        "text": "a tweet the collection missed",
    }
    ingest(ws, [path])
    got = {
        r["post_id"]: r
        for r in ws.connect().sql("select * from posts").to_arrow_table().to_pylist()
    }
    assert got["11"]["repost_of"] == "999" and got["11"]["source"] == "R&D <bot>"
    assert got["10"]["source"] == "web" and got["10"]["urls"] == ["https://example.org/a"]
    assert "999" not in got  # nothing is known of it but its id and text: no post is invented


def _canonical(rows: list[dict[str, Any]]) -> pa.Table:
    from tidings import schema

    full = [{f.name: r.get(f.name) for f in schema.POSTS} for r in rows]
    return pa.Table.from_pylist(full, schema=schema.POSTS)
