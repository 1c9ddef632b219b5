"""twarc-csv CSV: the real v2 fixtures converted by twarc-csv itself read as the same posts as the
JSON they came from."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from twarc_csv import CSVConverter, DataFrameConverter

from canonical_posts import CONTENT_FIELDS
from conftest import shared_dataset
from tidings import Workspace, ingest
from tidings.cli import cli

FIXTURES = "twarc_csv_v2_api_fixtures"
FILES = [
    "2sets.jsonl",
    "cashtags.jsonl",
    "edited.jsonl",
    "flat.jsonl",
    "geo_tweets.jsonl",
    "kpop.jsonl",
    "media_policy_violation_on.jsonl",
    "media_tweet.jsonl",
    "mentions_tweet.jsonl",
    "quoted_edit.jsonl",
    "streaming_output_with_error.jsonl",
    "withheld.jsonl",
]
FIELDS = CONTENT_FIELDS


def to_csv(src: Path, dst: Path, *, inline: bool) -> Path:
    """Run twarc-csv's own converter, as `twarc2 csv [--inline-referenced-tweets]` does."""
    with (
        src.open(encoding="utf8") as i,
        dst.open("w", encoding="utf8") as o,
        warnings.catch_warnings(),
    ):
        # twarc-csv calls pandas' deprecated DataFrame.applymap.
        warnings.simplefilter("ignore", FutureWarning)
        converter = DataFrameConverter(input_data_type="tweets", inline_referenced_tweets=inline)
        CSVConverter(i, o, converter=converter, hide_progress=True).process()
    return dst


def posts(ws: Workspace) -> dict[str, dict[str, Any]]:
    got = ws.connect().sql("select * from posts").to_arrow_table().to_pylist()
    return {r["post_id"]: {f: r[f] for f in FIELDS} for r in got}


def pages(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_bytes().splitlines():
        try:
            page = json.loads(line)
        except ValueError:
            continue
        if "data" in page:
            data = page["data"]
            out.append({**page, "data": data if isinstance(data, list) else [data]})
    return out


def edit_history_only(path: Path) -> set[str]:
    """Included tweets that nothing references, only `edit_history_tweet_ids` (earlier versions
    of an edited tweet): twarc-csv inlines referenced tweets alone, so the CSV lacks them."""
    included, referenced = set(), set()
    for page in pages(path):
        tweets = page.get("includes", {}).get("tweets", [])
        included |= {t["id"] for t in tweets}
        referenced |= {t["id"] for t in page["data"]}
        for t in [*page["data"], *tweets]:
            referenced |= {r["id"] for r in t.get("referenced_tweets", [])}
    return included - referenced


def divergent_retweets(path: Path) -> dict[str, set[str]]:
    """Retweets that twarc-csv itself writes differently from the JSON, by the fields affected.

    - the original is in the page but its author is not: twarc-csv writes the original's text
      without the author's name, so the CSV cannot say "RT @name:" (text, mentions);
    - the original has no entities (or no attachments): twarc-csv keeps the retweet's own, cut
      at 140 characters, instead of the original's none (urls, hashtags, mentions, media).
    """
    out: dict[str, set[str]] = {}
    for page in pages(path):
        inc = page.get("includes", {})
        tweets = {t["id"]: t for t in inc.get("tweets", [])}
        users = {u["id"] for u in inc.get("users", [])}
        for t in page["data"]:
            for r in t.get("referenced_tweets", []):
                orig = tweets.get(r["id"])
                if r["type"] != "retweeted" or orig is None:
                    continue
                fields = out.setdefault(t["id"], set())
                if orig["author_id"] not in users:
                    fields |= {"text", "mentions"}
                if "entities" not in orig:
                    fields |= {"urls", "hashtags", "mentions"}
                if "attachments" not in orig:
                    fields.add("media")
    return out


@pytest.mark.realdata
@pytest.mark.parametrize("name", FILES)
def test_csv_reads_as_the_json_it_came_from(name: str, tmp_path: Path) -> None:
    src = shared_dataset(FIXTURES) / name
    csv_path = to_csv(src, tmp_path / "tweets.csv", inline=True)
    from_json, from_csv = Workspace.init(tmp_path / "j"), Workspace.init(tmp_path / "c")
    ingest(from_json, [src])
    res = ingest(from_csv, [csv_path])
    assert res.files[0].format == "twarc-csv" and res.quarantined == 0
    want, got = posts(from_json), posts(from_csv)
    assert got.keys() == want.keys() - edit_history_only(src)
    odd = divergent_retweets(src)
    compared = 0
    for pid, row in want.items():
        if pid in got:
            skip = odd.get(pid, set())
            assert {f: v for f, v in got[pid].items() if f not in skip} == {
                f: v for f, v in row.items() if f not in skip
            }, pid
            compared += len(FIELDS) - len(skip)
    assert compared >= 0.9 * len(FIELDS) * len(got)


@pytest.mark.realdata
def test_default_csv_holds_data_tweets_and_authors(tmp_path: Path, ws: Workspace) -> None:
    src = shared_dataset(FIXTURES) / "withheld.jsonl"
    csv_path = to_csv(src, tmp_path / "tweets.csv", inline=False)
    res = ingest(ws, [csv_path], format="csv")
    pages = [json.loads(line) for line in src.read_text().splitlines() if line.strip()]
    data = {t["id"]: t for p in pages for t in p["data"]}
    users = {u["id"]: u for p in pages for u in p["includes"].get("users", [])}
    got = posts(ws)
    assert res.files[0].format == "twarc-csv" and set(got) == set(data)
    accounts = {
        r["account_id"]: r
        for r in ws.connect().sql("select * from accounts").to_arrow_table().to_pylist()
    }
    assert set(accounts) == {t["author_id"] for t in data.values()}
    profiles = 0
    for uid, a in accounts.items():
        u = users.get(uid)
        if u is None:  # an author the API did not return (suspended): only the id is known
            assert a["account_name"] is None
            continue
        assert (a["account_name"], a["display_name"]) == (u["username"], u["name"] or None)
        assert a["followers"] == u["public_metrics"]["followers_count"]
        assert a["withheld_in"] == u.get("withheld", {}).get("country_codes", [])
        profiles += 1
    assert profiles > 100
    withheld = {tid for tid, t in data.items() if "withheld" in t}
    assert {pid for pid, p in got.items() if p["withheld_in"]} == withheld


@pytest.mark.realdata
def test_bad_rows_are_quarantined_with_the_column(tmp_path: Path, ws: Workspace) -> None:
    src = shared_dataset(FIXTURES) / "geo_tweets.jsonl"
    csv_path = to_csv(src, tmp_path / "tweets.csv", inline=True)
    lines = csv_path.read_text(encoding="utf8").splitlines()
    first = json.loads(src.read_text().splitlines()[0])["data"][0]
    bad_line = next(i for i, line in enumerate(lines, 1) if line.startswith(first["id"] + ","))
    lines[bad_line - 1] = lines[bad_line - 1].replace(first["created_at"], "someday", 1)
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf8")
    out = CliRunner().invoke(cli, ["ingest", str(ws.path), str(csv_path)])
    assert out.exit_code == 0, out.output
    assert f"tweets.csv:{bad_line}: field 'created_at': unparseable date 'someday'" in out.output
    assert "in column 'created_at'" in out.output
    assert first["id"] not in posts(ws) and len(posts(ws)) == 2
