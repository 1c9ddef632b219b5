"""The windowed join against a brute-force reference: every kind, every window, every column.

The reference (tests/coordination_reference.py) compares every pair of action rows directly; the
engine uses the bucket trick, integer account ids, hashes and SQL. They must agree exactly.
"""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pytest

import coordination_reference as ref
from tidings.coordination import Coordination

WINDOWS = (10, 60, 600, 3600)
TEXTS = [
    "Join the rally at the north gate tonight at nine",
    "الإعلان عن الحملة الجديدة في المدينة اليوم",
    "Free tickets for everyone who shares this message today",
    "the weather stays dry and warm for the rest of the week",
]
VARIANTS = [
    lambda t: t,
    lambda t: t.upper() + "!!",
    lambda t: "@someone " + t,
    lambda t: "RT @origin: " + t + " https://t.co/x" + str(random.randint(0, 9999)),
    lambda t: " ".join(t.split()[:-1]),  # a dropped last word: near-duplicate only
    lambda t: t + " #extra",  # an extra tag: near-duplicate only
]
URLS = [
    "https://www.example.org/rally?utm_source=tw",
    "http://example.org/rally/",
    "https://news.example.co.uk/story/1",
    "https://other.example.co.uk/page#top",
    "",
]
# Each account posts from one app; two apps are rare (three accounts each), one is common.
APPS = ["Glad Relay"] * 3 + ["Orchard Share"] * 3 + ["Twitter for Android"] * 14 + [" ", None] * 2


def collection(seed: int, n: int = 500) -> list[dict[str, Any]]:
    """Posts by 24 accounts over 3 hours: bursts of accounts acting on shared keys, plus noise."""
    rng = random.Random(seed)
    random.seed(seed)
    accounts = [f"acc{i:02d}" for i in range(24)]
    posts: list[dict[str, Any]] = []
    while len(posts) < n:
        start = rng.uniform(0, 3 * 3600)
        spread = rng.choice([5, 30, 300, 2000])
        members = rng.sample(accounts, rng.randint(2, 6))
        kind = rng.choice(["repost", "quote", "reply", "post", "post", "post"])
        target = f"target{rng.randint(0, 6)}"
        text = rng.choice(TEXTS)
        urls = rng.sample(URLS, rng.randint(0, 2))
        tags = rng.choice([["a", "b", "c"], ["A", "#b", "c"], ["a", "b"], [], ["x", "y", "z", "w"]])
        for acc in members:
            t = round(start + rng.uniform(0, spread), 3)
            post: dict[str, Any] = {
                "post_id": f"p{len(posts):05d}",
                "account_id": acc,
                "t": t,
                "kind": kind,
                "source": APPS[accounts.index(acc)],
            }
            if kind == "repost":
                post["repost_of"] = target
                post["text"] = "RT @origin: " + text
            else:
                post["text"] = rng.choice(VARIANTS)(text)
                post["urls"] = urls
                post["hashtags"] = tags
                if kind == "quote":
                    post["quote_of"] = target
                if kind == "reply":
                    post["reply_to"] = target
            posts.append(post)
    # A planted group: four accounts posting their own fresh text together, again and again.
    for event in range(15):
        start = rng.uniform(0, 3 * 3600)
        for acc in accounts[20:]:
            posts.append(
                {
                    "post_id": f"p{len(posts):05d}",
                    "account_id": acc,
                    "t": round(start + rng.uniform(0, 5), 3),
                    "text": f"planted message number {event} from the group",
                }
            )
    return posts


def engine_edges(
    posts: list[dict[str, Any]], **params: Any
) -> dict[tuple[str, str, int], dict[str, Any]]:
    detector = Coordination(windows=WINDOWS, **params).fit(ref.posts_table(posts))
    return {
        (r.pop("account_a"), r.pop("account_b"), r.pop("window_s")): r
        for r in detector.edges_.to_pylist()
    }


def assert_same(got: dict[Any, dict[str, Any]], want: dict[Any, dict[str, Any]]) -> None:
    assert got.keys() == want.keys()
    for edge, row in want.items():
        other = got[edge]
        for col, value in row.items():
            if col.startswith("score"):
                # Each key's surprise is rounded to 1e-6 on both sides; log10 may differ in
                # the last bit between libm and Python, so allow one unit per key.
                assert other[col] == pytest.approx(value, abs=1e-6 * row["weight"]), (edge, col)
            else:
                assert other[col] == value, (edge, col)


PARAMS = {"app_min_accounts": 3, "min_weight": 1, "hot_cap": 0}


@pytest.mark.parametrize("seed", [1, 2])
def test_every_kind_and_window_equals_brute_force(seed: int) -> None:
    posts = collection(seed)
    want = ref.edges(posts, windows=WINDOWS, app_min_accounts=3)
    got = engine_edges(posts, **PARAMS)
    assert_same(got, want)
    # Not vacuous: every kind, every window, and both significant and ordinary edges occur.
    for kind in ref.KINDS:
        assert any(row[f"w_{kind}"] for row in want.values()), kind
    assert {w for _, _, w in want} == set(WINDOWS)
    assert {row["significant"] for row in want.values()} == {True, False}


def test_min_weight_only_filters_rows() -> None:
    posts = collection(3)
    want = ref.edges(posts, windows=WINDOWS, app_min_accounts=3, min_weight=3)
    assert_same(engine_edges(posts, **{**PARAMS, "min_weight": 3}), want)
    assert all(row["weight"] >= 3 for row in want.values())


@pytest.mark.parametrize(("cap", "cap_long", "k"), [(3, 2, 4), (5, 3, 2)])
def test_bounded_fan_out_equals_brute_force(cap: int, cap_long: int, k: int) -> None:
    posts = collection(4)
    want = ref.edges(posts, windows=WINDOWS, cap=cap, cap_long=cap_long, k=k, app_min_accounts=3)
    got = engine_edges(posts, **{**PARAMS, "hot_cap": cap, "hot_cap_long": cap_long, "hot_k": k})
    assert_same(got, want)
    unbounded = ref.edges(posts, windows=WINDOWS, app_min_accounts=3)
    assert sum(r["pairs"] for r in want.values()) < sum(r["pairs"] for r in unbounded.values())


def _pair(t1: float, t2: float) -> list[dict[str, Any]]:
    return [
        {"post_id": "x1", "account_id": "a", "t": t1, "repost_of": "target"},
        {"post_id": "x2", "account_id": "b", "t": t2, "repost_of": "target"},
    ]


def test_window_edges_are_inclusive_and_exact() -> None:
    edges = engine_edges(_pair(100.0, 160.0), **PARAMS)
    assert sorted(w for _, _, w in edges) == [60, 600, 3600]
    edges = engine_edges(_pair(100.0, 160.000001), **PARAMS)
    assert sorted(w for _, _, w in edges) == [600, 3600]


def test_weak_kinds_only_count_at_short_windows() -> None:
    posts = [
        {"post_id": "d1", "account_id": "a", "t": 0.0, "urls": ["https://site.example/1"]},
        {"post_id": "d2", "account_id": "b", "t": 30.0, "urls": ["https://site.example/2"]},
        {"post_id": "d3", "account_id": "a", "t": 5000.0, "urls": ["https://site.example/3"]},
        {"post_id": "d4", "account_id": "b", "t": 5300.0, "urls": ["https://site.example/4"]},
    ]
    edges = engine_edges(posts, **PARAMS)
    # The 30 s co-share counts at every window; the 300 s one at none (a shared site over
    # minutes is expected), so the pair has one domain key everywhere.
    assert {w: e["w_domain"] for (_, _, w), e in edges.items()} == {w: 1 for w in WINDOWS[1:]}


def test_pairs_straddling_a_bucket_boundary_are_found() -> None:
    # 3599 s and 3601 s fall in different one-hour buckets but are 2 s apart.
    edges = engine_edges(_pair(3599.0, 3601.0), **PARAMS)
    assert sorted(w for _, _, w in edges) == list(WINDOWS)
    assert edges[("a", "b", 10)]["min_dt_s"] == 2.0


def test_simultaneous_posts_pair() -> None:
    # Twitter timestamps have whole seconds: two accounts often act in the same second.
    edges = engine_edges(_pair(100.0, 100.0), **PARAMS)
    assert sorted(w for _, _, w in edges) == list(WINDOWS)
    assert edges[("a", "b", 10)]["min_dt_s"] == 0.0


def test_the_same_account_never_pairs_with_itself() -> None:
    posts = _pair(0.0, 1.0)
    posts[1]["account_id"] = "a"
    assert engine_edges(posts, **PARAMS) == {}
    posts[1]["account_id"] = "b"
    assert len(engine_edges(posts, **PARAMS)) == len(WINDOWS)


def test_empty_values_never_become_keys() -> None:
    blank: dict[str, Any] = {
        "repost_of": " ",
        "quote_of": "",
        "reply_to": "",
        "text": "!! 🙂",
        "urls": ["", " ", "#x"],
        "hashtags": ["", " ", "#"],
        "source": " ",
    }
    posts = [
        {"post_id": f"e{i}", "account_id": f"acc{i}", "t": float(i), **blank} for i in range(5)
    ]
    detector = Coordination(windows=WINDOWS, **PARAMS).fit(ref.posts_table(posts))
    assert detector.edges_.num_rows == 0
    assert detector.counts_["actions"] == 0


def test_outputs_have_the_documented_columns() -> None:
    detector = Coordination(windows=WINDOWS, **PARAMS).fit(ref.posts_table(collection(5)))
    assert detector.edges_.column_names[:3] == ["account_a", "account_b", "window_s"]
    for col in ("weight", "w_repost", "w_text", "w_near_text", "w_url", "w_app", "pairs",
                "min_dt_s", "median_dt_s", "score"):  # fmt: skip
        assert col in detector.edges_.column_names
    a = detector.edges_.column("account_a").to_pylist()
    b = detector.edges_.column("account_b").to_pylist()
    assert all(x < y for x, y in zip(a, b, strict=True))
    assert detector.evidence_.column_names[:7] == [
        "account_a", "account_b", "kind", "key", "post_a", "post_b", "dt_s",
    ]  # fmt: skip
    assert set(detector.communities_.column_names) >= {"account_id", "community_id"}
    assert set(detector.hot_keys_.column_names) >= {"kind", "key", "rows", "how"}
    assert isinstance(detector.edges_, pa.Table)
