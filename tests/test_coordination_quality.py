"""Quality on the generator's planted activity at 1M posts with default settings (acceptance 1),
and hot keys: a viral storm stays bounded and is reported (acceptance 3)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tidings.coordination import Coordination


@pytest.fixture(scope="module")
def demo_1m(demo_collection: Callable[..., Path]) -> Path:
    return demo_collection(n_posts=1_000_000)


@pytest.fixture(scope="module")
def fitted(demo_1m: Path) -> Coordination:
    return Coordination().fit(demo_1m / "posts.parquet")


def _groups(demo: Path) -> dict[str, str]:
    truth = pq.read_table(demo / "truth" / "accounts.parquet").to_pylist()
    return {r["account_id"]: r["group"] for r in truth if r["group"]}


def _significant_pairs(detector: Coordination) -> set[tuple[str, str]]:
    sig = detector.edges_.filter(detector.edges_.column("significant"))
    return set(zip(sig.column("account_a").to_pylist(), sig.column("account_b").to_pylist(),
                   strict=True))  # fmt: skip


def test_planted_pairs_found_with_high_precision(fitted: Coordination, demo_1m: Path) -> None:
    group = _groups(demo_1m)
    truth = pq.read_table(demo_1m / "truth" / "accounts.parquet")
    coordinated = Counter(r["group"] for r in truth.to_pylist() if r["label"] == "coordinated")
    assert len(coordinated) == 50
    pairs = _significant_pairs(fitted)
    # Precision: a significant pair is right when both accounts belong to the same planted
    # group (the app campaign, the bomb and the hijack are planted coordination too).
    right = sum(1 for a, b in pairs if group.get(a) is not None and group.get(a) == group.get(b))
    precision = right / len(pairs)
    found = sum(
        1
        for a, b in pairs
        if group.get(a) is not None and group.get(a) == group.get(b) and group[a] in coordinated
    )
    recall = found / sum(n * (n - 1) // 2 for n in coordinated.values())
    print(f"pairs {len(pairs)}, precision {precision:.4f}, recall {recall:.4f}")
    assert precision >= 0.95
    assert recall >= 0.95


def test_each_planted_group_is_one_community_of_about_its_size(
    fitted: Coordination, demo_1m: Path
) -> None:
    truth = [
        r
        for r in pq.read_table(demo_1m / "truth" / "accounts.parquet").to_pylist()
        if r["label"] == "coordinated"
    ]
    communities = fitted.communities_.to_pylist()
    community = {r["account_id"]: r["community_id"] for r in communities}
    size = {r["community_id"]: r["size"] for r in communities}
    members: dict[str, list[str]] = {}
    for r in truth:
        members.setdefault(r["group"], []).append(r["account_id"])
    for name, accounts in members.items():
        ids = {community.get(a) for a in accounts}
        assert len(ids) == 1 and None not in ids, (name, ids)
        got = size[ids.pop()]
        assert abs(got - len(accounts)) <= 0.2 * len(accounts), (name, got, len(accounts))


def test_default_threshold_comes_from_the_null_model(fitted: Coordination) -> None:
    for t in fitted.thresholds_:
        assert t.value == pytest.approx(math.log10(t.candidates / 0.01))
        assert "Bonferroni" in t.reason and f"{t.candidates:,}" in t.reason
    # Longer windows have more candidate pairs, so they need more evidence.
    values = [t.value for t in fitted.thresholds_]
    assert values == sorted(values)
    # Weight alone would let through thousands of chance edges: most weight >= 2 edges
    # are not significant.
    edges = fitted.edges_
    assert pc.sum(edges.column("significant")).as_py() < 0.5 * edges.num_rows


def test_evidence_points_at_the_planted_posts(fitted: Coordination, demo_1m: Path) -> None:
    group = _groups(demo_1m)
    planted = set(pq.read_table(demo_1m / "truth" / "posts.parquet").column("post_id").to_pylist())
    ev = fitted.evidence_.to_pylist()
    intra = [r for r in ev if group.get(r["account_a"]) and group.get(r["account_a"]) ==
             group.get(r["account_b"])]  # fmt: skip
    assert len(intra) > 1000
    share = sum(r["post_a"] in planted and r["post_b"] in planted for r in intra) / len(intra)
    assert share >= 0.9
    assert all(r["dt_s"] <= r["window_s"] for r in ev)
    # Evidence is kept for exactly the pairs with a significant edge, a few per pair.
    with_evidence = {(r["account_a"], r["account_b"]) for r in ev}
    assert with_evidence == _significant_pairs(fitted)
    assert max(Counter((r["account_a"], r["account_b"]) for r in ev).values()) <= 3


def test_community_summary_describes_each_community(fitted: Coordination) -> None:
    summary = fitted.community_summary_.to_pylist()
    sizes = Counter(fitted.communities_.column("community_id").to_pylist())
    assert {r["community_id"] for r in summary} == set(sizes)
    for r in summary:
        assert r["size"] == sizes[r["community_id"]]
        assert 0 < r["density"] <= 1
        assert r["top_keys"] and r["top_apps"]
        assert r["dt_p10_s"] <= r["dt_median_s"] <= r["dt_p90_s"]


def _storm(posts: pa.Table, n: int = 20_000) -> pa.Table:
    """One existing original reposted by ``n`` distinct accounts within 15 minutes."""
    originals = posts.filter(pc.is_null(posts.column("repost_of"))).slice(1000, 1)
    target = originals.column("post_id")[0].as_py()
    start = originals.column("created_at")[0].as_py() + timedelta(hours=1)
    accounts = pc.unique(posts.column("account_id")).slice(0, n)
    assert len(accounts) == n
    rows = {
        "post_id": [f"storm-{i}" for i in range(n)],
        "account_id": accounts,
        "created_at": [start + timedelta(seconds=900 * i / n) for i in range(n)],
        "kind": ["repost"] * n,
        "repost_of": [target] * n,
        "text": ["RT @someone: hello"] * n,
        "source": ["Twitter for Android"] * n,
    }
    storm = pa.table({f.name: rows.get(f.name, pa.nulls(n, f.type)) for f in posts.schema},
                     schema=posts.schema)  # fmt: skip
    return pa.concat_tables([posts, storm])


def test_viral_storm_adds_at_most_a_million_edges_and_is_reported(demo_1m: Path) -> None:
    posts = pq.read_table(demo_1m / "posts.parquet")
    stormy = _storm(posts)
    # Reposts are the only kind the storm touches, so compare that kind alone, at weight 1.
    base = Coordination(kinds=("repost",), min_weight=1).fit(posts)
    hit = Coordination(kinds=("repost",), min_weight=1).fit(stormy)
    added = hit.edges_.num_rows - base.edges_.num_rows
    print(f"storm adds {added:,} edge rows")
    assert 0 < added <= 1_000_000
    hot = hit.hot_keys_.to_pylist()
    storm_key = stormy.column("repost_of")[-1].as_py()
    top = next(r for r in hot if r["key"] == storm_key)
    assert top["kind"] == "repost" and top["rows"] >= 20_000
    assert "nearest" in top["how"]
