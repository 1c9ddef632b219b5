"""Client apps: per-account profiles, rare apps posting shared content from many accounts,
accounts switching app together, and the app in every campaign's evidence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from canonical_posts import posts_table
from tidings import AppProfiles

T0 = 1_401_580_800  # 2014-06-01 00:00 UTC
DAY = 86_400
HOUR = 3_600
MAINSTREAM = ["Twitter for Android", "Twitter for iPhone", "Twitter Web Client"]


def rows(prefix: str, accounts: list[str], ts: Any, apps: list[str], texts: list[str]) -> dict:
    return {
        "post_id": [f"{prefix}{i}" for i in range(len(accounts))],
        "account_id": accounts,
        "ts": list(ts),
        "source": apps,
        "text": texts,
    }


def organic(n: int = 20_000, accounts: int = 2_000, seed: int = 0) -> dict:
    """Each account has a main app (80 % of its posts) and posts unique texts."""
    rng = np.random.default_rng(seed)
    who = rng.integers(0, accounts, n)
    main = rng.integers(0, len(MAINSTREAM), accounts)
    other = rng.integers(0, len(MAINSTREAM), n)
    app = np.where(rng.random(n) < 0.8, main[who], other)
    return rows(
        "o",
        [f"u{a}" for a in who],
        T0 + rng.uniform(0, 20 * DAY, n),
        [MAINSTREAM[a] for a in app],
        [f"ordinary words of post number {i}" for i in range(n)],
    )


def concat(*parts: dict) -> dict:
    return {k: [v for p in parts for v in p[k]] for k in parts[0]}


def test_each_account_gets_its_primary_app_and_mix() -> None:
    mixed = rows(
        "m",
        ["ann"] * 5 + ["bob"] * 2,
        T0 + np.arange(7) * HOUR,
        ["Web", "Web", "Web", "Android", "Relay", "Android", "Android"],
        [f"text {i}" for i in range(7)],
    )
    det = AppProfiles().fit(posts_table(mixed))
    got = {r["account_id"]: r for r in det.account_apps_.to_pylist()}
    assert got["ann"]["primary_app"] == "Web"
    assert got["ann"]["primary_share"] == 0.6
    assert got["ann"]["n_apps"] == 3 and got["ann"]["n_posts"] == 5
    assert got["ann"]["apps"] == [
        {"app": "Web", "n_posts": 3},
        {"app": "Android", "n_posts": 1},
        {"app": "Relay", "n_posts": 1},
    ]
    assert got["bob"]["primary_app"] == "Android" and got["bob"]["primary_share"] == 1.0


def test_a_rare_app_posting_the_same_texts_for_many_accounts_is_a_campaign() -> None:
    rng = np.random.default_rng(2)
    # 40 accounts post 10 texts through one rare app, each copy at a random time over 3 h.
    k, texts = 40, 10
    who = [f"relay{a}" for _ in range(texts) for a in range(k)]
    when = np.concatenate([T0 + t * DAY + rng.uniform(0, 3 * HOUR, k) for t in range(texts)])
    said = [f"central message number {t} for all of you" for t in range(texts) for _ in range(k)]
    relay = rows("r", who, when, ["Relay Poster"] * len(who), said)
    # Another rare app: 30 accounts post their own texts through it.
    n = 600
    hobby = rows(
        "h",
        [f"hob{a}" for a in rng.integers(0, 30, n)],
        T0 + rng.uniform(0, 20 * DAY, n),
        ["Hobby Client"] * n,
        [f"my own words today {i}" for i in range(n)],
    )
    det = AppProfiles().fit(posts_table(concat(organic(), relay, hobby)))
    apps = {r["app"]: r for r in det.apps_.to_pylist()}
    assert apps["Relay Poster"]["campaign"]
    assert apps["Relay Poster"]["shared_share"] == 1.0
    assert apps["Relay Poster"]["shared_keys"] == texts
    assert not apps["Hobby Client"]["campaign"]
    assert not any(apps[a]["campaign"] for a in MAINSTREAM)
    assert det.campaigns_["app"].to_pylist() == ["Relay Poster"]
    assert set(det.members_["account_id"].to_pylist()) == {f"relay{a}" for a in range(k)}


def test_accounts_switching_app_together_are_flagged_and_mixed_use_is_not() -> None:
    rng = np.random.default_rng(3)
    k = 40
    switch_at = T0 + 10 * DAY + 12 * HOUR
    before = [
        rows(
            f"b{a}_",
            [f"mover{a}"] * 8,
            np.sort(T0 + rng.uniform(0, 10 * DAY, 8)),
            ["Twitter for Android"] * 8,
            [f"before {a} {i}" for i in range(8)],
        )
        for a in range(k)
    ]
    # Each mover's first post through the new app comes within two hours of the others'.
    after = [
        rows(
            f"a{a}_",
            [f"mover{a}"] * 8,
            switch_at + np.sort(np.r_[rng.uniform(0, 2 * HOUR), rng.uniform(3 * HOUR, 9 * DAY, 7)]),
            ["New Client"] * 8,
            [f"after {a} {i}" for i in range(8)],
        )
        for a in range(k)
    ]
    det = AppProfiles().fit(posts_table(concat(organic(), *before, *after)))
    flagged = [s for s in det.switches_.to_pylist() if s["flagged"]]
    assert [(s["to_app"], s["n_accounts"], s["from_apps"]) for s in flagged] == [
        ("New Client", k, ["Twitter for Android"])
    ]
    assert flagged[0]["start"].timestamp() <= switch_at < flagged[0]["end"].timestamp()
    movers = {m["account_id"] for m in det.switch_members_.to_pylist()}
    assert movers == {f"mover{a}" for a in range(k)}


def test_every_campaign_carries_its_app(campaigns_run: Callable[..., Any]) -> None:
    result, _ = campaigns_run(1_000_000)
    campaigns = result.campaigns.to_pylist()
    assert campaigns
    for c in campaigns:
        assert c["top_app"] and c["apps"], c["campaign_id"]
        assert c["apps"][0]["app"] == c["top_app"]
        assert 0 < c["app_share"] <= 1
        assert c["top_app"] in c["label"]
    # The app campaign is found as such: the rare app, its 200 accounts.
    apps = [c for c in campaigns if c["kind"] == "app" and c["key"] == "Glad Tidings Relay"]
    assert len(apps) == 1 and apps[0]["n_accounts"] == 200
