"""The v1.1 reader cuts blocks into lines in a thread of its own, ahead of the conversion:
blocks keep their order, errors surface where they happened, and stopping early stops the thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator
from pathlib import Path

import pytest

from tidings import InputError
from tidings.ingest import twitter_v1
from tidings.ingest._base import ReadOptions


def _tweet(n: int) -> str:
    user = {"id_str": str(1000 + n % 7), "screen_name": f"u{n % 7}"}
    return json.dumps(
        {
            "id_str": str(n),
            "created_at": "Wed Jun 11 08:00:00 +0000 2014",
            "text": f"post {n} " + "x" * 200,
            "user": user,
        }
    )


def _threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tidings-v1-blocks"]


def test_items_in_order_then_the_error_where_it_happened() -> None:
    def items() -> Generator[int, None, None]:
        yield from range(50)
        raise ValueError("at 50")

    got: list[int] = []
    with pytest.raises(ValueError, match="at 50"):
        for x in twitter_v1._prefetch(items()):
            got.append(x)
    assert got == list(range(50))
    assert not _threads()


def test_reader_gives_every_line_in_order_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(twitter_v1, "_BLOCK", 4_000)  # ~15 tweets a block, many blocks
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(_tweet(n) for n in range(1, 2001)) + "\n", "utf-8")
    reader = twitter_v1.TwitterV1Reader(path, ReadOptions())
    records: list[int] = []
    ids: list[str] = []
    for chunk in reader.read():
        if chunk.posts is not None:
            records += chunk.posts.column("_record").to_pylist()
            ids += chunk.posts.column("post_id").to_pylist()
    assert records == list(range(1, 2001))
    assert ids == [str(n) for n in range(1, 2001)]
    assert not _threads()


def test_too_long_line_is_reported_with_its_number_after_the_earlier_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(twitter_v1, "_BLOCK", 4_000)
    monkeypatch.setattr(twitter_v1, "_MAX_LINE", 20_000)
    path = tmp_path / "t.jsonl"
    lines = [_tweet(n) for n in range(1, 301)]
    path.write_text("\n".join([*lines, "{" + "x" * 50_000, *lines]) + "\n", "utf-8")
    reader = twitter_v1.TwitterV1Reader(path, ReadOptions())
    seen = 0
    with pytest.raises(InputError) as err:
        for chunk in reader.read():
            seen += chunk.posts.num_rows if chunk.posts is not None else 0
    assert err.value.line == 301
    assert "longer than" in str(err.value)
    assert 0 < seen <= 300
    assert not _threads()


def test_stopping_early_stops_the_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(twitter_v1, "_BLOCK", 4_000)
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(_tweet(n) for n in range(1, 3001)) + "\n", "utf-8")
    chunks = twitter_v1.TwitterV1Reader(path, ReadOptions()).read()
    first = next(iter(chunks))
    assert first.posts is not None and first.posts.num_rows > 0
    assert hasattr(chunks, "close")
    chunks.close()
    assert not _threads()
