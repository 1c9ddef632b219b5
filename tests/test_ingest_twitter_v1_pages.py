"""v1.1 search API pages (``{"statuses": [...]}``) ingest as the same posts as their tweets do
one per line; a page without statuses, or a truncated one, is quarantined with its line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from canonical_posts import CONTENT_FIELDS
from tidings import Workspace, ingest
from tidings.demo import DemoConfig, generate
from tidings.demo_formats import write_twitter_v1_jsonl

PAGE = 100


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = generate(DemoConfig(n_posts=1_200, seed=5))
    path = tmp_path_factory.mktemp("v1pages") / "tweets.jsonl"
    write_twitter_v1_jsonl(d.posts, path, accounts=d.accounts)
    return path


def _tweets(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _page(statuses: list[dict[str, Any]], n: int) -> dict[str, Any]:
    return {"statuses": statuses, "search_metadata": {"count": len(statuses), "page": n}}


def _pages(tweets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_page(tweets[i : i + PAGE], i // PAGE) for i in range(0, len(tweets), PAGE)]


def _posts(ws: Workspace) -> dict[str, dict[str, Any]]:
    rows = ws.connect().sql("select * from posts").to_arrow_table().to_pylist()
    return {r["post_id"]: {k: r[k] for k in CONTENT_FIELDS} for r in rows}


def _accounts(ws: Workspace) -> list[dict[str, Any]]:
    rows = ws.connect().sql("select * exclude (dataset) from accounts").to_arrow_table()
    return sorted(rows.to_pylist(), key=lambda r: r["account_id"])


def test_pages_one_per_line_give_the_posts_and_accounts_of_their_tweets(
    lines: Path, tmp_path: Path
) -> None:
    tweets = _tweets(lines)
    pages = tmp_path / "search.jsonl"
    pages.write_text("\n".join(json.dumps(p) for p in _pages(tweets)) + "\n", encoding="utf-8")

    by_line = Workspace.init(tmp_path / "lines")
    ingest(by_line, [lines], format="auto")
    by_page = Workspace.init(tmp_path / "pages")
    res = ingest(by_page, [pages], format="auto")

    assert res.files[0].format == "twitter-v1"
    assert res.quarantined == 0
    want = _posts(by_line)
    assert len(want) >= len(tweets)  # retweeted and quoted originals become posts too
    assert _posts(by_page) == want
    assert _accounts(by_page) == _accounts(by_line)
    # raw is each tweet itself, and _record the line its page starts on (page k on line k+1).
    rows = by_page.connect().sql("select post_id, raw from posts where raw is not null")
    raws = {r["post_id"]: json.loads(r["raw"]) for r in rows.to_arrow_table().to_pylist()}
    originals = {t["id_str"]: t for t in tweets}
    assert raws == {pid: originals[pid] for pid in raws}
    assert len(raws) == len(tweets)


def test_a_pretty_printed_page_is_read_too(lines: Path, tmp_path: Path) -> None:
    tweets = _tweets(lines)[:PAGE]
    page = tmp_path / "page.json"
    page.write_text(json.dumps(_page(tweets, 0), indent=2), encoding="utf-8")
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(json.dumps(t) for t in tweets) + "\n", encoding="utf-8")

    by_page = Workspace.init(tmp_path / "page")
    res = ingest(by_page, [page], format="auto")
    by_line = Workspace.init(tmp_path / "lines")
    ingest(by_line, [first], format="twitter-v1")

    assert (res.files[0].format, res.quarantined) == ("twitter-v1", 0)
    assert _posts(by_page) == _posts(by_line)


def test_a_page_without_statuses_and_a_truncated_page_are_quarantined_with_their_lines(
    lines: Path, tmp_path: Path
) -> None:
    tweets = _tweets(lines)[: 2 * PAGE]
    good = [json.dumps(p) for p in _pages(tweets)]
    bad = json.dumps({"errors": [{"code": 88, "message": "Rate limit exceeded"}]})
    cut = json.dumps(_page(tweets[:3], 9))[:-40]
    path = tmp_path / "search.jsonl"
    path.write_text("\n".join([good[0], bad, good[1], cut]) + "\n", encoding="utf-8")

    ws = Workspace.init(tmp_path / "ws")
    res = ingest(ws, [path], format="twitter-v1")

    stored = ws.connect().sql("select count(*) from posts where raw is not null").fetchall()[0][0]
    assert stored == 2 * PAGE
    with ws.catalog(read_only=True) as con:
        problems = con.execute(
            "select record, field, reason from quarantine order by record"
        ).fetchall()
    assert res.quarantined == 2
    assert [(line, field) for line, field, _ in problems] == [(2, "statuses"), (4, None)]
    assert "not a search API page (keys: errors)" in problems[0][2]
    assert problems[1][2].startswith("truncated JSON")


def test_a_pretty_printed_page_cut_short_is_quarantined_whole(lines: Path, tmp_path: Path) -> None:
    text = json.dumps(_page(_tweets(lines)[:PAGE], 0), indent=2)
    page = tmp_path / "page.json"
    page.write_text(text[: len(text) // 2], encoding="utf-8")

    ws = Workspace.init(tmp_path / "ws")
    res = ingest(ws, [page], format="auto")

    assert (res.stored, res.quarantined) == (0, 1)
    with ws.catalog(read_only=True) as con:
        problems = con.execute("select record, reason from quarantine").fetchall()
    assert problems == [(1, "truncated JSON: the file ends inside this page")]


def test_a_page_line_with_invalid_utf8_is_quarantined_at_its_byte(
    lines: Path, tmp_path: Path
) -> None:
    good = [json.dumps(p).encode() for p in _pages(_tweets(lines)[: 2 * PAGE])]
    broken = good[1].replace(b'"statuses"', b'"statuses\xff"', 1)
    path = tmp_path / "search.jsonl"
    path.write_bytes(good[0] + b"\n" + broken + b"\n")

    ws = Workspace.init(tmp_path / "ws")
    res = ingest(ws, [path], format="twitter-v1")

    assert res.quarantined == 1
    with ws.catalog(read_only=True) as con:
        problems = con.execute("select record, reason from quarantine").fetchall()
    at = broken.index(b"\xff") + 1
    assert problems == [(2, f"invalid UTF-8 at byte {at}")]
