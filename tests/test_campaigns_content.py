"""Content campaigns: the same text, near-identical texts, links and media from many accounts,
found with no time window and scored on how they are spread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from canonical_posts import posts_table
from tidings import ContentCampaigns, PostFrame
from tidings.keys import canonical_url, normalize_text

T0 = 1_401_580_800  # 2014-06-01 UTC
DAY = 86_400
WORDS = np.array(
    ["sun", "rain", "cloud", "market", "bread", "tea", "river", "bridge", "school", "book",
     "train", "garden", "song", "match", "team", "coffee", "lunch", "night", "morning", "city",
     "road", "park", "window", "light", "water", "phone", "photo", "music"]
)  # fmt: skip


def organic(n: int = 20_000, days: int = 20, accounts: int = 2_000, seed: int = 0) -> dict:
    """Chatter: unique texts at random times through mainstream apps."""
    rng = np.random.default_rng(seed)
    words = rng.integers(0, len(WORDS), (n, 8))
    return {
        "post_id": [f"o{i}" for i in range(n)],
        "account_id": [f"u{a}" for a in rng.integers(0, accounts, n)],
        "ts": (T0 + rng.uniform(0, days * DAY, n)).tolist(),
        "text": [" ".join(WORDS[w]) + f" number {i}" for i, w in enumerate(words)],
        "source": rng.choice(["Twitter for Android", "Twitter for iPhone", "Web"], n).tolist(),
        "urls": [[] for _ in range(n)],
    }


def copies(
    text: Callable[[int], str],
    accounts: int,
    start: float,
    spread_s: float,
    *,
    prefix: str,
    app: str = "Twitter for Android",
    urls: Callable[[int], list[str]] | None = None,
    seed: int = 1,
) -> dict:
    """One post per account at uniform random times over ``spread_s`` seconds."""
    rng = np.random.default_rng(seed)
    return {
        "post_id": [f"{prefix}{i}" for i in range(accounts)],
        "account_id": [f"{prefix}acc{i}" for i in range(accounts)],
        "ts": (start + rng.uniform(0, spread_s, accounts)).tolist(),
        "text": [text(i) for i in range(accounts)],
        "source": [app] * accounts,
        "urls": [urls(i) if urls else [] for i in range(accounts)],
    }


def concat(*parts: dict) -> dict:
    return {k: [v for p in parts for v in p[k]] for k in parts[0]}


def campaigns_of(det: ContentCampaigns, kind: str) -> list[set[str]]:
    """Member accounts of each campaign of ``kind``."""
    kinds = dict(
        zip(
            det.key_campaign_["campaign"].to_pylist(),
            det.key_campaign_["kind"].to_pylist(),
            strict=True,
        )
    )
    out: dict[int, set[str]] = {}
    for c, a in zip(
        det.members_["campaign"].to_pylist(), det.members_["account_id"].to_pylist(), strict=True
    ):
        if kinds[c] == kind:
            out.setdefault(c, set()).add(a)
    return list(out.values())


def key_row(det: ContentCampaigns, kind: str, key: str) -> dict[str, Any]:
    rows = [r for r in det.keys_.to_pylist() if r["kind"] == kind and r["key"] == key]
    assert len(rows) == 1, (kind, key)
    return rows[0]


def text_key(text: str) -> str:
    """The hex key of a normalised text, computed here from the Python reference normaliser."""
    norm = normalize_text(text)
    ((value,),) = duckdb.sql("SELECT md5_number_upper(?)", params=[norm]).fetchall()
    return f"{int(value):016X}"


def test_copies_with_their_own_short_links_meet_under_one_key() -> None:
    text = "please read the statement about the river bridge tonight"
    plant = copies(
        lambda i: f"{text} https://t.co/{i:010x}", 40, T0 + 5 * DAY, 3 * 3600, prefix="p"
    )
    det = ContentCampaigns().fit(posts_table(concat(organic(), plant)))
    assert campaigns_of(det, "identical_text") == [set(plant["account_id"])]
    assert det.key_campaign_.to_pylist() == [
        {"campaign": 0, "kind": "identical_text", "key": text_key(text)}
    ]


def test_a_phrase_said_all_month_is_not_a_campaign_but_the_same_phrase_within_hours_is() -> None:
    rng = np.random.default_rng(5)
    spread = "good morning to all of you my friends"
    pushed = "stand with the river people now and share"
    background = organic()
    n = 300
    everyday = {
        "post_id": [f"g{i}" for i in range(n)],
        "account_id": [f"u{a}" for a in rng.integers(0, 2_000, n)],
        "ts": (T0 + rng.uniform(0, 20 * DAY, n)).tolist(),
        "text": [spread] * n,
        "source": rng.choice(["Twitter for Android", "Twitter for iPhone", "Web"], n).tolist(),
        "urls": [[] for _ in range(n)],
    }
    push = copies(lambda i: pushed, 60, T0 + 9 * DAY, 3 * 3600, prefix="q", app="Web")
    det = ContentCampaigns().fit(posts_table(concat(background, everyday, push)))
    said = key_row(det, "identical_text", text_key(spread))
    assert said["n_accounts"] > 200 and not said["flagged"]
    assert said["s_time"] < 3
    hot = key_row(det, "identical_text", text_key(pushed))
    assert hot["flagged"] and hot["n_accounts"] == 60
    assert campaigns_of(det, "identical_text") == [set(push["account_id"])]


def test_templated_variants_form_one_near_duplicate_campaign() -> None:
    base = "the market opens early tomorrow with fresh bread and sweet tea for everyone"
    words = base.split()
    variants = [
        lambda: base,
        lambda: base.upper() + "!!",
        lambda: "@someone " + base,
        lambda: " ".join(words[:-1]),
        lambda: base + " #bread",
    ]
    plant = copies(lambda i: variants[i % 5](), 45, T0 + 3 * DAY, 3600, prefix="n")
    det = ContentCampaigns().fit(posts_table(concat(organic(), plant)))
    near = campaigns_of(det, "near_text")
    assert near == [set(plant["account_id"])]
    # The variants are reported once, as one near-duplicate campaign, not again one by one.
    assert campaigns_of(det, "identical_text") == []


def test_shared_link_spellings_meet_under_the_canonical_url() -> None:
    def link(i: int) -> list[str]:
        host = "https://www.example.org" if i % 2 else "http://example.org"
        return [f"{host}/report/?utm_source=s{i}&id=7#top"]

    plant = copies(lambda i: f"look at this {i}", 25, T0 + 4 * DAY, 240, prefix="l", urls=link)
    # An organic cascade: 40 accounts share a link over a day, through everyday apps.
    rng = np.random.default_rng(3)
    cascade = {
        "post_id": [f"c{i}" for i in range(40)],
        "account_id": [f"u{a}" for a in rng.integers(0, 2_000, 40)],
        "ts": (T0 + 11 * DAY + rng.exponential(6 * 3600, 40)).tolist(),
        "text": [f"worth reading {i}" for i in range(40)],
        "source": rng.choice(["Twitter for Android", "Twitter for iPhone", "Web"], 40).tolist(),
        "urls": [["https://news.example.net/story/1"] for _ in range(40)],
    }
    det = ContentCampaigns().fit(posts_table(concat(organic(), plant, cascade)))
    assert campaigns_of(det, "url") == [set(plant["account_id"])]
    assert det.key_campaign_["key"].to_pylist() == [canonical_url(link(1)[0])]
    assert canonical_url(link(1)[0]) == "example.org/report?id=7"
    assert not key_row(det, "url", "news.example.net/story/1")["flagged"]


def test_a_key_shared_by_100k_accounts_is_scored_without_pairing_them() -> None:
    n = 100_000
    plant = copies(lambda i: "one message for every single account here", n, T0 + DAY, 7200,
                   prefix="h")  # fmt: skip
    det = ContentCampaigns().fit(posts_table(concat(organic(), plant)))
    (found,) = campaigns_of(det, "identical_text")
    assert len(found) == n
    row = key_row(det, "identical_text", text_key(plant["text"][0]))
    assert row["n_posts"] == n and row["core_span_s"] < 7200


def test_accounts_created_together_and_evenly_spaced_copies_add_evidence() -> None:
    k = 30
    start = T0 + 6 * DAY
    batch = copies(lambda i: "the first message of the batch accounts", k, start, 6 * 3600,
                   prefix="b")  # fmt: skip
    scheduled = copies(lambda i: "the second message posted on a timer", k, start, 1, prefix="s")
    scheduled["ts"] = [start + 600.0 * i for i in range(k)]
    posts = posts_table(concat(organic(), batch, scheduled))
    rng = np.random.default_rng(9)
    ids = sorted(set(posts["account_id"].to_pylist()))
    created = {a: T0 - rng.uniform(30, 3_000) * DAY for a in ids}
    for i in range(k):  # the batch accounts were all made on one afternoon
        created[f"bacc{i}"] = T0 - 100 * DAY + i * 60
    accounts = pa.table(
        {
            "account_id": pa.array(ids),
            "created_at": pa.array(
                [int(created[a] * 1e6) for a in ids], pa.timestamp("us", tz="UTC")
            ),
        }
    )
    det = ContentCampaigns().fit(PostFrame.of(posts, accounts=accounts))
    b = key_row(det, "identical_text", text_key(batch["text"][0]))
    s = key_row(det, "identical_text", text_key(scheduled["text"][0]))
    assert b["s_creation"] > 20 and b["creation_span_days"] < 1
    assert s["s_creation"] < 3
    assert s["gap_cv"] < 0.05 and s["s_regularity"] > 5
    assert b["gap_cv"] > 0.5 and b["s_regularity"] < 2


def test_app_campaign_found_in_a_million_posts(campaigns_run: Callable[..., Any]) -> None:
    """Acceptance 1: 200 accounts post 30 texts over 3 h each from one rare app, each copy with
    its own t.co link, inside 1M posts: >= 0.9 of them are members of app or identical-text
    campaigns, and those campaigns are >= 0.9 app accounts."""
    result, demo = campaigns_run(1_000_000)
    truth = pq.read_table(demo / "truth" / "accounts.parquet").to_pylist()
    label = {r["account_id"]: r["label"] for r in truth}
    app_accounts = {a for a, lab in label.items() if lab == "app"}
    assert len(app_accounts) == 200
    camps = {
        r["campaign_id"]: r["kind"]
        for r in result.campaigns.to_pylist()
        if r["kind"] in ("app", "identical_text")
    }
    members: dict[str, set[str]] = {}
    for r in result.members.to_pylist():
        if r["campaign_id"] in camps:
            members.setdefault(r["campaign_id"], set()).add(r["account_id"])
    found = set().union(*members.values()) & app_accounts
    recall = len(found) / len(app_accounts)
    # The campaigns that hold app accounts, and everyone in them.
    holding = [m for m in members.values() if m & app_accounts]
    in_holding = set().union(*holding)
    precision = len(in_holding & app_accounts) / len(in_holding)
    # And over every app/identical-text campaign, planted accounts of any kind, not organic.
    everyone = set().union(*members.values())
    organic_share = sum(1 for a in everyone if a not in label) / len(everyone)
    print(f"app accounts: recall {recall:.3f}, precision {precision:.3f}, "
          f"organic share of all app/identical_text members {organic_share:.4f}")  # fmt: skip
    assert recall >= 0.9
    assert precision >= 0.9
    assert organic_share <= 0.1
    # The app is in the evidence of every campaign that holds app accounts.
    for r in result.campaigns.to_pylist():
        if r["campaign_id"] in camps and members[r["campaign_id"]] & app_accounts:
            assert r["top_app"] == "Glad Tidings Relay" and r["app_share"] > 0.95


def test_texts_in_scripts_the_cheap_key_drops_are_still_grouped() -> None:
    # Cyrillic has no letter the cheap prefilter keeps: such texts must all be normalised.
    text = "привет всем друзьям сегодня вечером"
    plant = copies(lambda i: f"{text} https://t.co/{i:08x}", 30, T0 + 5 * DAY, 3 * 3600, prefix="c")
    det = ContentCampaigns().fit(posts_table(concat(organic(), plant)))
    assert campaigns_of(det, "identical_text") == [set(plant["account_id"])]
    assert det.key_campaign_["key"].to_pylist() == [text_key(text)]


def test_texts_with_one_normalised_form_share_one_cheap_key() -> None:
    """The prefilter is safe: edits the normaliser ignores never change the cheap key."""
    rng = np.random.default_rng(11)
    vocab = ["market", "River", "صباح", "الخير", "مدرسة", "أهلا", "سلام", "tea", "Bridge", "كتاب"]
    edits = [
        lambda t: t.upper(),
        lambda t: t + "!!",
        lambda t: "@someone " + t,
        lambda t: "RT @desk: " + t,
        lambda t: t + " https://t.co/" + str(rng.integers(1e9)),
        lambda t: t.replace(" ", "  ,  "),
        lambda t: t.replace("ا", "أ", 1),
        lambda t: t.replace("ة", "ه"),
        lambda t: t.replace("ل", "لَ", 1),
        lambda t: t.replace(" ", " 🙂 ", 1),
    ]
    pairs = []
    for _ in range(2_000):
        words = rng.choice(vocab, int(rng.integers(3, 9)))
        base = " ".join(words)
        variant = base
        for k in rng.choice(len(edits), int(rng.integers(1, 4)), replace=False):
            variant = edits[k](variant)
        if normalize_text(base) == normalize_text(variant):
            pairs.append((base, variant))
    assert len(pairs) > 1_500
    rows = {
        "post_id": [f"p{i}{side}" for i in range(len(pairs)) for side in "ab"],
        "account_id": [f"a{i}{side}" for i in range(len(pairs)) for side in "ab"],
        "ts": [T0 + i for i in range(len(pairs)) for _ in "ab"],
        "text": [t for pair in pairs for t in pair],
    }
    frame = PostFrame.of(posts_table(rows))
    differ = frame.con.sql(
        "SELECT count(*) FROM (SELECT substr(post_id, 1, length(post_id) - 1) AS pair, "
        "count(DISTINCT ck) AS keys FROM cp_stage GROUP BY pair) WHERE keys > 1"
    ).fetchall()[0][0]
    assert differ == 0
