"""Twitter API v2 (twarc2 pages and flattened lines) on DocNow's real fixtures, file by file.

Every expected count is derived here from the raw JSON with plain ``json``, not from the reader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import shared_dataset
from tidings import InputError, Workspace, ingest
from tidings.cli import cli

FIXTURES = "twarc_csv_v2_api_fixtures"
TWEET_FILES = [
    "2sets.jsonl",
    "brexit.jsonl",
    "cashtags.jsonl",
    "cotweet.jsonl",
    "edited.jsonl",
    "edited_after.jsonl",
    "edited_before.jsonl",
    "entities_test.jsonl",
    "flat.jsonl",
    "geo_tweets.jsonl",
    "kpop.jsonl",
    "many_urls.jsonl",
    "media_policy_violation_off.jsonl",
    "media_policy_violation_on.jsonl",
    "media_tweet.jsonl",
    "mentions_tweet.jsonl",
    "noflat.jsonl",
    "quoted_edit.jsonl",
    "streaming_output_with_error.jsonl",
    "two_tweets.jsonl",
    "verified_type.jsonl",
    "withheld.jsonl",
]
NOT_POSTS = {
    "counts.jsonl": (1, "tweet counts (twarc2 counts), not tweets"),
    "lists.jsonl": (1, "Twitter list objects (twarc2 lists), not tweets"),
    "tweets_compliance.jsonl": (2, "a compliance-job result"),
    "users_compliance.jsonl": (1, "a compliance-job result"),
}
USERS_ONLY = ["users.jsonl"]


def fixture(name: str) -> Path:
    return shared_dataset(FIXTURES) / name


def test_every_file_is_covered() -> None:
    names = {p.name for p in shared_dataset(FIXTURES).glob("*.jsonl")}
    assert names == {*TWEET_FILES, *NOT_POSTS, *USERS_ONLY}


@dataclass
class Expected:
    """What a file holds, counted from its JSON."""

    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_ids: set[str] = field(default_factory=set)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_lines: list[int] = field(default_factory=list)
    repeats: int = 0
    """Tweets that come again as a tweet of their own (in data, or as a flattened line) after
    the file already gave them: duplicates. A referenced copy is only context, never counted."""


def _is_user(x: Any) -> bool:
    return isinstance(x, dict) and {"id", "username", "name"} <= x.keys()


def _users_in(x: Any, out: dict[str, dict[str, Any]]) -> None:
    """Every full user object anywhere in a flattened tweet."""
    if isinstance(x, dict):
        if _is_user(x):
            out.setdefault(x["id"], x)
        for v in x.values():
            _users_in(v, out)
    elif isinstance(x, list):
        for v in x:
            _users_in(v, out)


def expected(path: Path) -> Expected:
    e = Expected()
    for n, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            e.bad_lines.append(n)
            continue
        if "data" in obj:
            data = obj["data"] if isinstance(obj["data"], list) else [obj["data"]]
            includes = obj.get("includes", {})
            if data and "username" in data[0]:
                for u in data:
                    e.users.setdefault(u["id"], u)
                continue
            for t in data:
                e.repeats += t["id"] in e.tweets
                e.tweets.setdefault(t["id"], t)
                e.data_ids.add(t["id"])
            for t in includes.get("tweets", []):
                e.tweets.setdefault(t["id"], t)
            for u in includes.get("users", []):
                e.users.setdefault(u["id"], u)
        else:  # a flattened tweet
            e.repeats += obj["id"] in e.tweets
            e.tweets.setdefault(obj["id"], obj)
            e.data_ids.add(obj["id"])
            for ref in obj.get("referenced_tweets", []):
                if len(ref) > 3:  # twarc leaves {type, id} alone for tweets it did not get
                    e.tweets.setdefault(ref["id"], ref)
            _users_in(obj, e.users)
    return e


def rows(ws: Workspace, table: str) -> dict[str, dict[str, Any]]:
    key = "post_id" if table == "posts" else "account_id"
    got = ws.connect().sql(f"select * from {table}").to_arrow_table().to_pylist()
    return {r[key]: r for r in got}


@pytest.mark.realdata
@pytest.mark.parametrize("name", TWEET_FILES)
def test_tweet_file_counts(name: str, ws: Workspace) -> None:
    path = fixture(name)
    e = expected(path)
    res = ingest(ws, [path], format="twitter")
    f = res.files[0]
    assert f.format == "twitter-v2"
    posts, accounts = rows(ws, "posts"), rows(ws, "accounts")
    # posts: every distinct tweet, in data or referenced and included
    assert set(posts) == set(e.tweets)
    assert (f.stored, f.duplicates, f.quarantined) == (len(e.tweets), e.repeats, len(e.bad_lines))
    # referenced posts: the included tweets that are not in data are stored too
    referenced = set(e.tweets) - e.data_ids
    assert len(referenced & set(posts)) == len(referenced)
    # accounts: every user object the file carries
    assert set(accounts) == set(e.users)
    # withheld: posts and accounts with country codes keep them
    for tid, t in e.tweets.items():
        assert posts[tid]["withheld_in"] == t.get("withheld", {}).get("country_codes", [])
    for uid, u in e.users.items():
        assert accounts[uid]["withheld_in"] == u.get("withheld", {}).get("country_codes", [])
    for tid, t in e.tweets.items():
        p = posts[tid]
        assert p["account_id"] == t["author_id"]
        assert p["created_at"].isoformat().replace("+00:00", ".000Z") == t["created_at"]
        refs = {r["type"]: r["id"] for r in t.get("referenced_tweets", [])}
        assert (p["repost_of"], p["quote_of"], p["reply_to"]) == (
            refs.get("retweeted"),
            refs.get("quoted"),
            refs.get("replied_to"),
        )
        if "retweeted" not in refs:
            assert p["text"] == t["text"]
            tags = [h["tag"].lower() for h in t.get("entities", {}).get("hashtags", [])]
            assert p["hashtags"] == tags
        if t["author_id"] in e.users:
            assert p["account_name"] == e.users[t["author_id"]]["username"]


@pytest.mark.realdata
def test_withheld_countries_and_users(ws: Workspace) -> None:
    path = fixture("withheld.jsonl")
    e = expected(path)
    ingest(ws, [path])
    posts, accounts = rows(ws, "posts"), rows(ws, "accounts")
    codes = {tid: t["withheld"]["country_codes"] for tid, t in e.tweets.items() if "withheld" in t}
    assert len(codes) >= 10 and any(c == ["DE", "FR"] for c in codes.values())
    assert {tid: posts[tid]["withheld_in"] for tid in codes} == codes
    users = {uid: u["withheld"]["country_codes"] for uid, u in e.users.items() if "withheld" in u}
    assert ["RU"] in users.values()
    assert {uid: accounts[uid]["withheld_in"] for uid in users} == users


@pytest.mark.realdata
def test_retweets_get_the_full_text_of_the_original(ws: Workspace) -> None:
    path = fixture("2sets.jsonl")
    e = expected(path)
    ingest(ws, [path])
    posts = rows(ws, "posts")
    checked = 0
    for tid in e.data_ids:
        t = e.tweets[tid]
        orig_id = next(
            (r["id"] for r in t.get("referenced_tweets", []) if r["type"] == "retweeted"), None
        )
        if orig_id not in e.tweets or e.tweets[orig_id]["author_id"] not in e.users:
            continue
        orig = e.tweets[orig_id]
        author = e.users[orig["author_id"]]["username"]
        assert posts[tid]["text"] == f"RT @{author}: {orig['text']}"
        assert posts[tid]["mentions"][0] == author.lower()
        tags = [h["tag"].lower() for h in orig.get("entities", {}).get("hashtags", [])]
        assert posts[tid]["hashtags"] == tags
        checked += 1
    assert checked > 50


@pytest.mark.realdata
def test_places_coordinates_media_and_edits(ws: Workspace) -> None:
    geo, media, edited = (
        fixture("geo_tweets.jsonl"),
        fixture("media_tweet.jsonl"),
        fixture("edited.jsonl"),
    )
    ingest(ws, [geo, media, edited])
    posts = rows(ws, "posts")
    pages = [json.loads(line) for line in geo.read_text().splitlines() if line.strip()]
    places = {p["id"]: p["full_name"] for pg in pages for p in pg["includes"].get("places", [])}
    for pg in pages:
        for t in pg["data"]:
            g = t.get("geo", {})
            if "place_id" in g:
                assert posts[t["id"]]["place_name"] == places[g["place_id"]]
            if "coordinates" in g:
                lon, lat = g["coordinates"]["coordinates"]  # GeoJSON order
                assert (posts[t["id"]]["lat"], posts[t["id"]]["lon"]) == (lat, lon)
    assert any(posts[t["id"]]["lat"] is not None for pg in pages for t in pg["data"])
    page = json.loads(media.read_text())
    video = page["includes"]["media"][0]
    assert video["type"] == "video" and "url" not in video
    assert posts[page["data"][0]["id"]]["media"] == [video["preview_image_url"]]
    page = json.loads(edited.read_text())
    versions = page["data"][0]["edit_history_tweet_ids"]
    assert len(versions) == 2 and set(versions) <= set(posts)


@pytest.mark.realdata
def test_users_file_gives_accounts_only(ws: Workspace) -> None:
    path = fixture("users.jsonl")
    e = expected(path)
    res = ingest(ws, [path])
    assert res.files[0].format == "twitter-v2"
    assert (res.stored, res.accounts) == (0, len(e.users))
    accounts = rows(ws, "accounts")
    for uid, u in e.users.items():
        a = accounts[uid]
        assert (a["account_name"], a["display_name"]) == (u["username"], u["name"])
        assert a["followers"] == u["public_metrics"]["followers_count"]
        assert a["statuses"] == u["public_metrics"]["tweet_count"]


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(NOT_POSTS))
def test_files_without_posts_say_what_they_are(name: str, ws: Workspace) -> None:
    path = fixture(name)
    line, what = NOT_POSTS[name]
    for fmt in ("auto", "twitter", "twitter-v2"):
        with pytest.raises(InputError) as err:
            ingest(ws, [path], format=fmt)
        assert str(err.value).startswith(f"{path}:{line}: {what}")
    out = CliRunner().invoke(cli, ["ingest", str(ws.path), str(path)])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert f"{name}:{line}: {what}" in out.output
    assert ws.table_files("posts") == []


@pytest.mark.realdata
def test_truncated_and_invalid_lines_keep_what_was_stored(ws: Workspace, tmp_path: Path) -> None:
    first = fixture("two_tweets.jsonl")
    ingest(ws, [first])
    before = rows(ws, "posts")
    assert len(before) == 2
    # A real streaming capture with a cut-off last line, plus a page with bytes that are not
    # UTF-8 inside a tweet's text.
    stream = fixture("streaming_output_with_error.jsonl").read_bytes()
    page = fixture("cashtags.jsonl").read_bytes().strip()
    broken = page.replace(b'"text": "', b'"text": "\xff', 1)
    assert broken != page
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(stream.rstrip(b"\n") + b"\n" + broken + b"\n")
    cut = stream.rstrip(b"\n").count(b"\n") + 1  # the truncated line is the stream's last
    out = CliRunner().invoke(cli, ["ingest", str(ws.path), str(path)])
    assert out.exit_code == 0, out.output
    assert f"mixed.jsonl:{cut}: truncated JSON: the line ends before the record does" in out.output
    assert f"mixed.jsonl:{cut + 1}: invalid UTF-8 at byte" in out.output
    with ws.catalog(read_only=True) as con:
        q = con.execute("select record, reason from quarantine order by record").fetchall()
    assert [r[0] for r in q] == [cut, cut + 1]
    after = rows(ws, "posts")
    assert all(after[k] == v for k, v in before.items())
    assert len(after) == 2 + len(expected(fixture("streaming_output_with_error.jsonl")).tweets)


def test_flattened_and_page_forms_agree(tmp_path: Path) -> None:
    """The same tweet as a page and as twarc's flattened line gives the same post."""
    user = {"id": "9", "username": "Ana", "name": "Ana A", "created_at": "2020-01-01T00:00:00.000Z"}
    orig = {
        "id": "1",
        "author_id": "9",
        "created_at": "2021-01-01T10:00:00.000Z",
        "text": "a long original #Tag https://t.co/x",
        "entities": {
            "hashtags": [{"tag": "Tag"}],
            "urls": [{"url": "https://t.co/x", "expanded_url": "https://e.org/p"}],
        },
    }
    rt = {"id": "2", "author_id": "9", "created_at": "2021-01-01T11:00:00.000Z",
          "text": "RT @Ana: a long orig…", "referenced_tweets": [{"type": "retweeted", "id": "1"}],
          "withheld": {"country_codes": ["IN"]}}  # fmt: skip
    page = {"data": [rt], "includes": {"users": [user], "tweets": [orig]}}
    flat = {**rt, "author": user,
            "referenced_tweets": [{"type": "retweeted", **orig, "author": user}]}  # fmt: skip
    got = []
    for i, record in enumerate((page, flat)):
        ws = Workspace.init(tmp_path / f"ws{i}")
        path = tmp_path / f"t{i}.jsonl"
        path.write_text(json.dumps(record) + "\n")
        res = ingest(ws, [path], format="twitter-v2")
        assert (res.stored, res.accounts) == (2, 1)
        got.append(
            {k: {f: v for f, v in p.items() if f != "raw"} for k, p in rows(ws, "posts").items()}
        )
    assert got[0] == got[1]
    repost = got[0]["2"]
    assert repost["text"] == "RT @Ana: a long original #Tag https://t.co/x"
    assert repost["urls"] == ["https://e.org/p"] and repost["hashtags"] == ["tag"]
    assert repost["mentions"] == ["ana"] and repost["withheld_in"] == ["IN"]
    assert repost["kind"] == "repost" and got[0]["1"]["kind"] == "post"
