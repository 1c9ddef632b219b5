"""The compiled v1.1 scanner gives exactly what the Python path gives, and hands back any block
it cannot vouch for; the direct file reader reads the same bytes as an ordinary one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from test_ingest_twitter_v1 import ANA, BO, sample, tweet, user
from tidings.demo import DemoConfig, generate
from tidings.demo_formats import write_twitter_v1_jsonl
from tidings.ingest import twitter_v1
from tidings.ingest._base import ReadOptions
from tidings.ingest._direct import DirectReader

CAN_BUILD = shutil.which("g++") is not None and Path("/usr/include/simdjson.h").exists()

needs_scanner = pytest.mark.skipif(
    twitter_v1._SCAN is None,
    reason="the compiled scanner is not built (needs g++ and Debian's libsimdjson-dev)",
)


@pytest.mark.skipif(not CAN_BUILD, reason="no g++ or /usr/include/simdjson.h on this machine")
def test_the_scanner_is_built_where_it_can_be() -> None:
    assert twitter_v1._SCAN is not None


def convert(path: Path, compiled: bool) -> tuple[pa.Table, pa.Table, list[Any], int, Any]:
    """Every chunk of ``path`` through one path of the converter, as the reader runs it."""
    converter = twitter_v1._Converter(compiled=compiled)
    posts, accounts, problems, skipped = [], [], [], 0
    for block in twitter_v1._line_blocks(path):
        chunk = converter.convert(block)
        if chunk.posts is not None:
            posts.append(chunk.posts)
        if chunk.accounts is not None:
            accounts.append(chunk.accounts)
        problems += chunk.problems
        skipped += chunk.skipped
    accounts.append(converter.profiles_chunk())
    table = pa.concat_tables(posts)
    table = table.select(sorted(table.column_names))
    return table, pa.concat_tables(accounts), problems, skipped, converter


def assert_same(path: Path) -> Any:
    """Both paths agree on ``path``; returns the compiled converter, to see what it did."""
    fast = convert(path, compiled=True)
    slow = convert(path, compiled=False)
    assert fast[0].schema == slow[0].schema
    for name in fast[0].column_names:
        assert fast[0].column(name).to_pylist() == slow[0].column(name).to_pylist(), name
    # Accounts are handed on in parts whose bounds depend on the block sizes; the latest
    # profile of each account must be the same.
    latest = [twitter_v1._latest(t).sort_by("account_id").to_pylist() for t in (fast[1], slow[1])]
    assert latest[0] == latest[1]
    assert fast[2:4] == slow[2:4]
    return fast[4]


CY = user("300", "cy", description="", location="Erbil")


def edge_cases() -> list[Any]:
    """Tweets that exercise every rule of the conversion: the fast path must accept them."""
    items: list[Any] = list(sample())
    quoted = tweet("3001", BO, "the quoted one", quoted_status_id_str=None)
    rt_of_quote = tweet(
        "3000",
        ANA,
        "a quote",
        quoted_status_id=3001,
        quoted_status=quoted,
        place={"full_name": "Mosul, Iraq", "country": "Iraq"},
        geo={"type": "Point", "coordinates": [36.34, 43.13]},
    )
    items += [
        tweet("3002", BO, "RT @Ana_R: a quote", retweeted_status=rt_of_quote),
        # The same original again, embedded before and after it comes as a tweet of its own.
        tweet(
            "3003",
            user("300", "cy", description="", location="Erbil"),
            "RT",
            retweeted_status=quoted,
        ),
        quoted,
        tweet("3004", ANA, "no created_at", created_at=None, timestamp_ms="1402473600123"),
        tweet(
            "3005",
            BO,
            "",
            full_text="full text wins",
            in_reply_to_status_id=3001,
            in_reply_to_status_id_str="",
            coordinates={"type": "Point", "coordinates": [43, 36.5]},
            entities={
                "hashtags": [{"text": ""}, {"text": "Tag"}],
                "urls": [{"url": "https://t.co/x", "expanded_url": ""}, {"url": None}],
                "user_mentions": [{"screen_name": None}],
                "media": [{"media_url": "http://pbs/1.jpg"}],
            },
            extended_entities={"media": []},
            withheld_in_countries=[],
        ),
        tweet("3006", {**ANA, "statuses_count": 31, "followers_count": None}, "later profile"),
        tweet("3007", None, "no user"),  # stored as a post without an account: quarantined later
        tweet("3008", ANA, 'a \u0645\u0631\u062d\u0628\u0627 \\ "quoted" \u2028 line', lang="ar"),
        {"delete": {"status": {"id": 1, "id_str": "1", "user_id": 2}}},
        {"limit": {"track": 12}},
        {"something": "else"},
    ]
    return items


def write_lines(path: Path, items: list[Any], ends: str = "\n") -> Path:
    lines = [json.dumps(x, ensure_ascii=False) for x in items]
    path.write_text(ends.join(lines[:3]) + ends + "\n  \t\n" + ends.join(lines[3:]), "utf-8")
    return path


@needs_scanner
@pytest.mark.parametrize("ends", ["\n", "\r\n"])
def test_every_rule_agrees_and_takes_the_fast_path(tmp_path: Path, ends: str) -> None:
    converter = assert_same(write_lines(tmp_path / "edge.jsonl", edge_cases(), ends))
    assert converter.compiled_blocks >= 1 and converter.python_blocks == 0


@needs_scanner
def test_a_generated_collection_agrees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = generate(DemoConfig(n_posts=20_000, seed=7))
    path = tmp_path / "demo.jsonl"
    write_twitter_v1_jsonl(demo.posts, path, accounts=demo.accounts)
    monkeypatch.setattr(twitter_v1, "_BLOCK", 1 << 16)  # many blocks: repeats across them
    monkeypatch.setattr(twitter_v1, "_PROFILES", 500)  # and profiles handed on in parts
    converter = assert_same(path)
    assert converter.python_blocks == 0 and converter.compiled_blocks > 100


@needs_scanner
def test_blocks_of_both_paths_in_one_file_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Originals embedded in blocks of one path and repeated in blocks of the other are still
    stored once, and profiles still end on the latest."""
    demo = generate(DemoConfig(n_posts=20_000, seed=11))
    path = tmp_path / "demo.jsonl"
    write_twitter_v1_jsonl(demo.posts, path, accounts=demo.accounts)
    lines = path.read_bytes().split(b"\n")
    for at in range(len(lines) // 7, len(lines), len(lines) // 7):
        lines[at] = lines[at][: len(lines[at]) // 2]  # a truncated line every seventh of the file
    path.write_bytes(b"\n".join(lines))
    monkeypatch.setattr(twitter_v1, "_BLOCK", 1 << 18)
    monkeypatch.setattr(twitter_v1, "_PIECE", 1 << 15)  # a block given back is re-cut
    monkeypatch.setattr(twitter_v1, "_PROFILES", 500)
    converter = assert_same(path)
    # Only the piece holding each damaged line takes the Python path.
    assert converter.python_blocks == 6 and converter.compiled_blocks > 100
    # The reader merges blocks of both paths into its chunks.
    chunks = list(twitter_v1.TwitterV1Reader(path, ReadOptions()).read())
    stored = sum(c.posts.num_rows for c in chunks if c.posts is not None)
    assert stored == convert(path, compiled=False)[0].num_rows
    assert sum(len(c.problems) for c in chunks) == 6


GIVE_UP = {
    "truncated line": '{"id_str": "9", "user": {"id_str": "1"',
    "field of another type": json.dumps(tweet("9", ANA, "x", lang=5)),
    "ISO date": json.dumps(tweet("9", ANA, "x", created_at="2014-06-11T08:00:00+00:00")),
    "unreadable date": json.dumps(
        tweet("9", ANA, "x", created_at="Wed Jun 31 08:00:00 +0000 2014")
    ),
    "embedded id not a number": json.dumps(
        tweet("9", ANA, "x", retweeted_status={**tweet("8", BO, "y"), "id_str": "abc"})
    ),
    "duplicated key": json.dumps(tweet("9", ANA, "x"))[:-1] + ', "lang": "fr"}',
    "not an object": "[1, 2]",
    "invalid UTF-8": '{"id_str": "9", "text": "\xff"}',
    "user without id_str": json.dumps(tweet("9", {"id": 5, "screen_name": "x"}, "x")),
}


@needs_scanner
@pytest.mark.parametrize("case", list(GIVE_UP))
def test_a_block_it_cannot_vouch_for_goes_to_the_python_path(tmp_path: Path, case: str) -> None:
    good = [json.dumps(x) for x in sample()]
    path = tmp_path / "bad.jsonl"
    text = "\n".join([*good[:2], GIVE_UP[case], *good[2:]]) + "\n"
    path.write_bytes(text.encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff"))
    converter = assert_same(path)
    assert (converter.compiled_blocks, converter.python_blocks) == (0, 1)


@pytest.mark.parametrize("size", [0, 1, 4095, 8 << 20, (24 << 20) + 17])
def test_direct_reads_give_the_file_as_it_is(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256 + 1)
    path = tmp_path / "f.bin"
    path.write_bytes(data[:size])
    out = bytearray()
    target = bytearray(3 << 20)
    with DirectReader(path) as fh:
        while got := fh.readinto(memoryview(target)):
            out += target[:got]
    assert bytes(out) == data[:size]


def test_closing_early_stops_the_read_ahead(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"y" * (64 << 20))
    target = bytearray(1 << 20)
    with DirectReader(path) as fh:
        assert fh.readinto(memoryview(target)) == 1 << 20
    assert bytes(target) == b"y" * (1 << 20)


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="no procfs (not Linux)")
def test_a_filesystem_without_direct_reads_is_read_the_ordinary_way() -> None:
    path = Path("/proc/version")  # procfs refuses O_DIRECT (tmpfs takes it since Linux 6.6)
    with DirectReader(path) as fh:
        assert fh._fd is None
        target = bytearray(1 << 16)
        got = fh.readinto(memoryview(target))
        assert bytes(target[:got]) == path.read_bytes()
        assert fh.readinto(memoryview(target)) == 0
