"""Real data: CooRTweet's russian_coord_tweets (35k anonymised pro-government retweets, 2021).

Ingested through the project's CooRTweet reader, its co-repost edges at W = 10 s must equal the
brute-force reference's exactly (acceptance 5). Skipped when ../shared is absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import coordination_reference as ref
from conftest import shared_dataset
from test_coordination_join import assert_same
from tidings import Workspace, coordinate, ingest

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def russian_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    path = shared_dataset("coortweet_package_data") / "russian_coord_tweets.csv"
    ws = Workspace.init(tmp_path_factory.mktemp("real") / "ws")
    result = ingest(ws, [path], format="coortweet", dataset="russian")
    assert result.stored > 35_000 and result.quarantined == 0
    return ws


def _stored_posts(ws: Workspace) -> list[dict[str, Any]]:
    table = pq.read_table(ws.table_files("posts"), columns=["post_id", "account_id",
                          "created_at", "repost_of"])  # fmt: skip
    return [
        {
            "post_id": r["post_id"],
            "account_id": r["account_id"],
            "t": (r["created_at"] - ref.EPOCH).total_seconds(),
            "repost_of": r["repost_of"],
        }
        for r in table.to_pylist()
    ]


def test_repost_edges_at_10s_equal_the_reference(russian_ws: Workspace, tmp_path: Path) -> None:
    posts = _stored_posts(russian_ws)
    want = ref.edges(posts, windows=(10,), cap=200, k=20, min_weight=1)
    result = coordinate(
        russian_ws, out=tmp_path / "c", windows=("10s",), kinds=("repost",), min_weight=1
    )
    got = {
        (r.pop("account_a"), r.pop("account_b"), r.pop("window_s")): r
        for r in result.edges.to_pylist()
    }
    assert len(want) > 1000  # not vacuous
    assert_same(got, want)


def test_default_run_finds_significant_groups(russian_ws: Workspace, tmp_path: Path) -> None:
    result = coordinate(russian_ws, out=tmp_path / "d")
    counts = result.summary["counts"]
    assert counts["actions_repost"] == counts["posts"]  # a retweet table: reposts only
    assert counts["significant_edges"] > 0
    sizes = result.community_summary.column("size").to_pylist()
    assert sizes == sorted(sizes, reverse=True) and sizes[0] >= 3
    # Every community's members co-retweeted: its top keys are reposts.
    for row in result.community_summary.to_pylist():
        assert {k["kind"] for k in row["top_keys"]} == {"repost"}
