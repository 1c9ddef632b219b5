"""Twitter API v1.1 JSON (2014 collections): JSONL and arrays, every field we map, bad lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import twitwi
from click.testing import CliRunner

from tidings import InputError, Workspace, ingest
from tidings.cli import cli
from tidings.demo import DemoConfig, generate
from tidings.demo_formats import write_twitter_v1_jsonl
from tidings.ingest import twitter_v1

ANDROID = '<a href="http://twitter.com/download/android" rel="nofollow">Twitter for Android</a>'


def user(uid: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": int(uid),
        "id_str": uid,
        "name": f"Name of {name}",
        "screen_name": name,
        "location": "",
        "description": f"about {name}",
        "followers_count": 10,
        "friends_count": 20,
        "statuses_count": 30,
        "created_at": "Mon Jan 02 03:04:05 +0000 2012",
        "lang": "en",
        "profile_background_color": "C0DEED",
        **extra,
    }


def tweet(tid: str, who: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    return {
        "created_at": "Wed Jun 11 08:00:00 +0000 2014",
        "id": int(tid),
        "id_str": tid,
        "text": text,
        "source": ANDROID,
        "truncated": False,
        "in_reply_to_status_id": None,
        "in_reply_to_status_id_str": None,
        "user": who,
        "geo": None,
        "coordinates": None,
        "place": None,
        "retweet_count": 0,
        "entities": {"hashtags": [], "trends": [], "urls": [], "user_mentions": [], "symbols": []},
        "favorited": False,
        "lang": "en",
        **extra,
    }


ANA = user("100", "Ana_R")
BO = user("200", "bo", withheld_in_countries=["TR", "DE"])
LONG = "word " * 40 + "#Ending"


def sample() -> list[dict[str, Any]]:
    original = tweet(
        "1001",
        ANA,
        LONG[:139] + "…",
        truncated=True,
        extended_tweet={
            "full_text": LONG,
            "entities": {
                "hashtags": [{"text": "Ending", "indices": [200, 207]}],
                "urls": [],
                "user_mentions": [],
            },
        },
    )
    plain = tweet(
        "1002",
        ANA,
        "Look #WorldCup @Bo_X http://t.co/aaa http://t.co/ph",
        entities={
            "hashtags": [{"text": "WorldCup", "indices": [5, 14]}],
            "urls": [
                {
                    "url": "http://t.co/aaa",
                    "expanded_url": "http://example.org/story",
                    "display_url": "example.org/story",
                    "indices": [21, 36],
                }
            ],
            "user_mentions": [{"screen_name": "Bo_X", "id_str": "7", "indices": [15, 20]}],
            "media": [{"media_url_https": "https://pbs.twimg.com/media/A.jpg"}],
        },
        extended_entities={
            "media": [
                {"media_url_https": "https://pbs.twimg.com/media/A.jpg"},
                {"media_url": "http://pbs.twimg.com/media/B.jpg"},
            ]
        },
        coordinates={"type": "Point", "coordinates": [44.36, 33.31]},
        geo={"type": "Point", "coordinates": [33.31, 44.36]},
        place={"full_name": "Baghdad, Iraq", "country_code": "IQ"},
        withheld_in_countries=["IN"],
    )
    retweet = tweet(
        "1003",
        BO,
        ("RT @Ana_R: " + LONG)[:139] + "…",
        source='<a href="https://example.com" rel="nofollow">R&amp;D &lt;bot&gt;</a>',
        entities={
            "hashtags": [],
            "urls": [],
            "user_mentions": [{"screen_name": "Ana_R", "indices": [3, 9]}],
        },
        retweeted_status=original,
    )
    quote = tweet(
        "1004",
        BO,
        "so true",
        source="web",
        quoted_status_id_str="1002",
        quoted_status=plain,
        is_quote_status=True,
    )
    reply = tweet(
        "1005",
        ANA,
        "@bo yes",
        in_reply_to_status_id=1004,
        in_reply_to_status_id_str="1004",
        geo={"type": "Point", "coordinates": [36.2, 37.1]},
    )
    reply.pop("source")
    return [retweet, quote, reply]


def write_jsonl(path: Path, items: list[Any], notices: bool = True) -> Path:
    lines = [json.dumps(x, ensure_ascii=False) for x in items]
    if notices:
        lines.insert(1, json.dumps({"delete": {"status": {"id": 5, "id_str": "5"}}}))
        lines.append(json.dumps({"limit": {"track": 12, "timestamp_ms": "1402473600000"}}))
        lines.insert(2, "")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def posts(ws: Workspace) -> dict[str, dict[str, Any]]:
    rows = ws.connect().sql("select * from posts").to_arrow_table().to_pylist()
    return {r["post_id"]: r for r in rows}


def test_every_field_of_a_jsonl_file(ws: Workspace, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "tweets.jsonl", sample())
    res = ingest(ws, [path])
    f = res.files[0]
    assert (f.format, f.label) == ("twitter-v1", "Twitter API v1.1 JSON")
    # 3 tweets on lines 1, 4, 5; the originals they embed (1001, 1002) are posts too.
    assert (res.stored, res.quarantined, res.skipped, res.duplicates) == (5, 0, 2, 0)
    got = posts(ws)
    assert set(got) == {"1001", "1002", "1003", "1004", "1005"}

    rt = got["1003"]
    assert rt["kind"] == "repost" and rt["repost_of"] == "1001" and rt["quote_of"] is None
    assert rt["text"] == "RT @Ana_R: " + LONG  # full text, not the 140-character cut
    assert rt["hashtags"] == ["ending"]  # the original's, from its extended_tweet
    assert rt["mentions"] == ["ana_r"]
    assert rt["source"] == "R&D <bot>"
    assert rt["account_id"] == "200" and rt["account_name"] == "bo"
    assert rt["created_at"] == datetime(2014, 6, 11, 8, 0, tzinfo=UTC)
    assert rt["withheld_in"] == []
    assert json.loads(rt["raw"])["id_str"] == "1003"

    orig = got["1001"]
    assert orig["kind"] == "post" and orig["text"] == LONG and orig["account_id"] == "100"

    plain = got["1002"]
    assert plain["urls"] == ["http://example.org/story"]  # expanded, never the t.co link
    assert plain["hashtags"] == ["worldcup"] and plain["mentions"] == ["bo_x"]
    assert plain["media"] == [
        "https://pbs.twimg.com/media/A.jpg",
        "http://pbs.twimg.com/media/B.jpg",
    ]  # extended_entities has every photo, entities only the first
    assert (plain["lat"], plain["lon"]) == (33.31, 44.36)  # GeoJSON is [lon, lat]
    assert plain["place_name"] == "Baghdad, Iraq"
    assert plain["withheld_in"] == ["IN"]

    quote = got["1004"]
    assert quote["kind"] == "quote" and quote["quote_of"] == "1002"
    assert quote["source"] == "web"  # very old tweets: a bare value, no anchor

    reply = got["1005"]
    assert reply["kind"] == "reply" and reply["reply_to"] == "1004"
    assert reply["source"] is None
    assert (reply["lat"], reply["lon"]) == (36.2, 37.1)  # the old `geo` field is [lat, lon]
    assert {p["platform"] for p in got.values()} == {"twitter"}

    with ws.catalog(read_only=True) as con:
        assert con.execute("select count(*) from quarantine").fetchone() == (0,)
    accounts = {
        r["account_id"]: r
        for r in ws.connect().sql("select * from accounts").to_arrow_table().to_pylist()
    }
    assert set(accounts) == {"100", "200"}
    bo = accounts["200"]
    assert (bo["account_name"], bo["display_name"], bo["description"]) == (
        "bo",
        "Name of bo",
        "about bo",
    )
    assert (bo["followers"], bo["following"], bo["statuses"]) == (10, 20, 30)
    assert bo["created_at"] == datetime(2012, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert bo["withheld_in"] == ["TR", "DE"] and bo["location"] is None


def test_json_array_gives_the_same_posts_numbered_by_line(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "tweets.json"
    path.write_text(json.dumps(sample(), indent=2, ensure_ascii=False), encoding="utf-8")
    res = ingest(ws, [path], format="twitter")
    assert res.files[0].format == "twitter-v1" and res.stored == 5
    jsonl_ws = Workspace.init(tmp_path / "ws2")
    ingest(jsonl_ws, [write_jsonl(tmp_path / "t.jsonl", sample(), notices=False)])
    drop = ("raw", "dataset")
    assert {k: {f: v for f, v in p.items() if f not in drop} for k, p in posts(ws).items()} == {
        k: {f: v for f, v in p.items() if f not in drop} for k, p in posts(jsonl_ws).items()
    }
    # A bad element is reported at the line where it starts.
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines, 1) if '"id_str": "1004"' in line)
    assert start > 1
    bad = tmp_path / "bad.json"
    bad.write_text(path.read_text().replace('"Wed Jun 11 08:00:00 +0000 2014"', '"soon"', 1))
    res = ingest(Workspace.init(tmp_path / "ws3"), [bad])
    assert res.quarantined >= 1
    assert any(":" in p and "unparseable date 'soon'" in p for p in res.files[0].problems)


def test_original_already_in_the_file_is_stored_once(ws: Workspace, tmp_path: Path) -> None:
    original = tweet("1", ANA, "the original")
    rts = [
        tweet(str(10 + i), BO, "RT @Ana_R: the original", retweeted_status=original)
        for i in range(5)
    ]
    path = write_jsonl(tmp_path / "t.jsonl", [original, *rts], notices=False)
    res = ingest(ws, [path])
    assert (res.read, res.stored, res.duplicates) == (6, 6, 0)
    again = ingest(ws, [path])
    assert (again.stored, again.duplicates) == (0, 6)


def test_small_blocks_give_the_same_posts(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Block edges (lines carried over, lines longer than the buffer, blocks with no tweet,
    originals given in an earlier block) change nothing."""
    demo = generate(DemoConfig(n_posts=1_000, seed=7))
    path = tmp_path / "t.jsonl"
    write_twitter_v1_jsonl(demo.posts, path, accounts=demo.accounts)
    lines = path.read_text(encoding="utf-8").splitlines()
    notice = json.dumps({"limit": {"track": 3}})
    big = json.dumps(tweet("1", user("9", "big", description="x" * 100_000), "hi"))
    path.write_text("\n".join([*lines[:50], *[notice] * 40, big, *lines[50:]]) + "\n", "utf-8")
    ingest(ws, [path])
    whole = posts(ws)
    monkeypatch.setattr(twitter_v1, "_BLOCK", 64_000)  # ~25 tweets; shorter than `big`
    small = Workspace.init(tmp_path / "small")
    res = ingest(small, [path])
    assert (res.stored, res.duplicates, res.skipped) == (len(whole), 0, 40)
    assert posts(small) == whole


def test_huge_record_raw_is_capped(ws: Workspace, tmp_path: Path) -> None:
    big = tweet("1", user("9", "big", description="x" * (1 << 21)), "hi")
    res = ingest(ws, [write_jsonl(tmp_path / "t.jsonl", [big], notices=False)])
    assert res.stored == 1
    assert len(posts(ws)["1"]["raw"]) == 1 << 20


# --- bad input ---------------------------------------------------------------------------


def bad_file(tmp_path: Path) -> Path:
    good = [json.dumps(t, ensure_ascii=False).encode() for t in sample()]
    truncated = good[0][:150]
    invalid = json.dumps(tweet("77", ANA, "caf\u00e9")).encode().replace(b"caf\\u00e9", b"caf\xe9")
    dated = json.dumps(tweet("78", ANA, "when?", created_at="yesterday")).encode()
    typed = json.dumps(tweet("79", user("5", "x", followers_count="many"), "hm")).encode()
    other = json.dumps({"foo": 1}).encode()
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        b"\n".join([good[0], truncated, invalid, dated, typed, other, good[2]]) + b"\n"
    )
    return path


def test_bad_lines_are_quarantined_and_the_rest_stored(ws: Workspace, tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    res = ingest(ws, [path])
    assert res.stored == 3  # line 1 (and its embedded original) and line 7
    assert res.quarantined == 5
    with ws.catalog(read_only=True) as con:
        rows = con.execute(
            "select record, field, reason, raw from quarantine order by record"
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        (2, None),
        (3, None),
        (4, "created_at"),
        (5, "user.followers_count"),
        (6, "user"),
    ]
    assert rows[0][2].startswith("truncated JSON")
    assert rows[1][2].startswith("invalid UTF-8") and "caf\ufffd" in rows[1][3]
    assert rows[2][2] == "unparseable date 'yesterday'"
    assert "Expected `int | null`, got `str`" in rows[3][2]
    assert "no 'user' or 'id_str'" in rows[4][2] and "foo" in rows[4][2]
    assert (
        res.files[0].problems[0] == f"{path}:2: truncated JSON: the line ends before the tweet does"
    )


def test_bad_input_through_the_cli_keeps_what_was_stored(ws: Workspace, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", sample())
    runner = CliRunner()
    first = runner.invoke(cli, ["ingest", str(ws.path), str(good)])
    assert first.exit_code == 0, first.output
    before = posts(ws)

    bad = runner.invoke(cli, ["ingest", str(ws.path), str(bad_file(tmp_path))])
    assert bad.exit_code == 0
    assert f"{tmp_path / 'bad.jsonl'}:2: truncated JSON" in bad.output
    assert f"{tmp_path / 'bad.jsonl'}:4: field 'created_at': unparseable date" in bad.output
    assert "quarantined 5" in bad.output

    not_tweets = tmp_path / "objects.jsonl"
    not_tweets.write_text('{"name": "a", "value": 1}\n{"name": "b", "value": 2}\n')
    csv = tmp_path / "tweets.csv"
    csv.write_text("id,user,text\n1,ana,hello\n")
    for path, expected in [
        (not_tweets, "objects.jsonl:1: field 'user': not a Twitter API v1.1 tweet"),
        (csv, "tweets.csv:1: not JSON: the file starts like a CSV"),
    ]:
        for fmt in ("twitter", "twitter-v1"):
            out = runner.invoke(cli, ["ingest", str(ws.path), str(path), "--format", fmt])
            assert out.exit_code == 1
            assert "Traceback" not in out.output
            line = out.output.strip()
            assert "\n" not in line and expected in line, line
            with pytest.raises(InputError) as err:
                ingest(ws, [path], format=fmt)
            assert expected in str(err.value)
    after = posts(ws)
    assert all(after[k] == v for k, v in before.items())
    assert set(after) == set(before) | {"1001", "1002"}  # the bad file's good lines


def untracked(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if not k.startswith("utm_")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_matches_twitwi_on_generated_tweets(tmp_path: Path, ws: Workspace) -> None:
    """twitwi (medialab) normalises the same tweets independently; the fields where both
    follow the same convention must agree."""
    demo = generate(DemoConfig(n_posts=3_000, seed=5))
    path = tmp_path / "t.jsonl"
    write_twitter_v1_jsonl(demo.posts, path, accounts=demo.accounts)
    ingest(ws, [path])
    ours = posts(ws)
    compared = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        if raw["source"] == "web" or raw.get("quoted_status"):
            # twitwi fails on the bare "web" source, and folds a quote's text and hashtags
            # into the quoting tweet's; tidings keeps each post's own.
            continue
        theirs = twitwi.normalize_tweet(raw, collection_source="test")
        mine = ours[theirs["id"]]
        assert mine["account_id"] == theirs["user_id"]
        assert mine["account_name"] == theirs["user_screen_name"]
        assert mine["created_at"].timestamp() == theirs["timestamp_utc"]
        assert mine["repost_of"] == theirs["retweeted_id"]
        assert mine["reply_to"] == theirs["to_tweetid"]
        assert sorted(set(mine["hashtags"])) == sorted(theirs["hashtags"])
        assert sorted(mine["mentions"]) == sorted(theirs["mentioned_names"])
        # twitwi drops tracking parameters; tidings stores the URL as posted.
        assert sorted(map(untracked, mine["urls"])) == sorted(theirs["links"])
        assert mine["media"] == theirs["media_urls"]
        assert mine["lang"] == theirs["lang"]
        assert (mine["lat"], mine["lon"]) == (theirs.get("lat"), theirs.get("lng"))
        if "&" not in raw["source"]:  # twitwi leaves HTML entities in the app name
            assert mine["source"] == theirs["source_name"]
        if not mine["urls"] and not mine["media"]:  # twitwi writes expanded links into text
            assert mine["text"] == theirs["text"]
        compared += 1
    assert compared > 2_000
