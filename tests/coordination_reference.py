"""A deliberately simple, brute-force coordination reference in plain Python (small data only).

It shares nothing with the engine code but the plain-Python key functions (which have their own
tests against the SQL): every pair of action rows is compared directly, windows are checked one
by one, and hot-key bounding is written the obvious way. Tests compare the engines' edge tables
with what this computes.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from tidings.keys import (
    MinHasher,
    app_key,
    band_keys_reference,
    canonical_url,
    hashtag_set_key,
    registered_domain,
    text_key,
    url_host,
)
from tidings.schema import POSTS

KINDS = ("repost", "quote", "reply", "text", "near_text", "url", "domain", "hashtag_set", "app")
EPOCH = datetime(2014, 6, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    kind: str
    key: str
    account: str
    post: str
    ts: int  # microseconds
    sub: str | None = None  # what would make the match exact (near_text: text; domain: URL)


def posts_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Canonical posts from dicts with ``t`` (seconds after 2014-06-01) instead of created_at."""
    cols: dict[str, list[Any]] = {f.name: [] for f in POSTS}
    for r in rows:
        for f in POSTS:
            if f.name == "created_at":
                cols[f.name].append(EPOCH + timedelta(seconds=r["t"]))
            else:
                cols[f.name].append(r.get(f.name))
    return pa.table(cols, schema=POSTS)


def _ref(post: dict[str, Any], field: str) -> str | None:
    value = post.get(field)
    return (value.strip(" ") or None) if isinstance(value, str) else None


def actions(
    posts: list[dict[str, Any]], *, app_max_share: float, app_min_accounts: int
) -> list[Row]:
    out: list[Row] = []
    accounts = {p["account_id"] for p in posts}
    app_users: dict[str, set[str]] = defaultdict(set)
    for p in posts:
        a = app_key(p.get("source"))
        if a:
            app_users[a].add(p["account_id"])
    limit = max(app_min_accounts, int(app_max_share * len(accounts)))
    hasher = MinHasher()
    for p in posts:
        ts = round(p["t"] * 1_000_000)
        found: list[tuple[str, str | None, str | None]] = []
        repost = _ref(p, "repost_of")
        found += [
            ("repost", repost, None),
            ("quote", _ref(p, "quote_of"), None),
            ("reply", _ref(p, "reply_to"), None),
        ]
        app = app_key(p.get("source"))
        if app and len(app_users[app]) <= limit:
            found.append(("app", app, None))
        if not repost:
            norm = text_key(p.get("text"))
            found.append(("text", norm, None))
            if norm:
                found += [("near_text", str(b), norm) for b in band_keys_reference(norm, hasher)]
            urls = {canonical_url(u) for u in p.get("urls") or []}
            found += [("url", u, None) for u in sorted(u for u in urls if u)]
            by_domain: dict[str, set[str]] = defaultdict(set)
            for u in p.get("urls") or []:
                host, canon = url_host(u), canonical_url(u)
                if host and canon:
                    by_domain[registered_domain(host) or host].add(canon)
            found += [("domain", d, min(c)) for d, c in sorted(by_domain.items())]
            found.append(("hashtag_set", hashtag_set_key(p.get("hashtags")), None))
        out += [Row(k, key, p["account_id"], p["post_id"], ts, sub) for k, key, sub in found if key]
    return out


WEAK = ("domain", "app")


def tiers(windows: tuple[int, ...], short_s: int, cap: int, cap_long: int) -> list[tuple]:
    """(floor_s, bucket_s, cap, kinds) for the short and the long windows."""
    short = [w for w in windows if w <= short_s]
    long = [w for w in windows if w > short_s]
    out: list[tuple] = []
    if short:
        out.append((0, max(short), cap, set(KINDS)))
    if long:
        kinds = set(KINDS) - set(WEAK) if short else set(KINDS)
        out.append((max(short) if short else 0, max(long), cap_long if cap > 0 else 0, kinds))
    return out


def row_pairs(
    rows: list[Row], *, windows: tuple[int, ...], cap: int, cap_long: int, k: int, short_s: int
) -> list[tuple[Row, Row]]:
    """Every co-acting pair of rows, bounded for hot keys exactly as documented."""
    by_key: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        by_key[(r.kind, r.key)].append(r)
    out = []
    for (kind, _), group in by_key.items():
        ordered = sorted(group, key=lambda r: (r.ts, r.account))
        rank = {id(r): i for i, r in enumerate(ordered)}
        for floor_s, bucket_s, tier_cap, kinds in tiers(windows, short_s, cap, cap_long):
            if kind not in kinds:
                continue
            b_us = bucket_s * 1_000_000
            count: dict[int, int] = defaultdict(int)
            for r in group:
                count[r.ts // b_us] += 1
            for x, y in itertools.combinations(group, 2):
                dt = abs(x.ts - y.ts)
                if x.account == y.account or dt > b_us or (floor_s and dt <= floor_s * 1_000_000):
                    continue
                if x.sub is not None and x.sub == y.sub:  # the exact text or URL match already
                    continue
                hot = tier_cap > 0 and (
                    count[x.ts // b_us] > tier_cap or count[y.ts // b_us] > tier_cap
                )
                if hot and abs(rank[id(x)] - rank[id(y)]) > max(1, k // 2):
                    continue
                out.append((x, y) if x.account < y.account else (y, x))
    return out


def edges(
    posts: list[dict[str, Any]],
    *,
    windows: tuple[int, ...],
    cap: int = 0,
    cap_long: int = 50,
    k: int = 20,
    short_s: int = 60,
    min_weight: int = 1,
    alpha: float = 0.01,
    app_max_share: float = 0.01,
    app_min_accounts: int = 50,
) -> dict[tuple[str, str, int], dict[str, Any]]:
    """``{(account_a, account_b, window_s): row}`` with every column of edges.parquet."""
    rows = actions(posts, app_max_share=app_max_share, app_min_accounts=app_min_accounts)
    n_key: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        n_key[(r.kind, r.key)] += 1
    ts = [round(p["t"] * 1_000_000) for p in posts]
    span = max((max(ts) - min(ts)) / 1e6, float(max(windows)))
    pairs = row_pairs(rows, windows=windows, cap=cap, cap_long=cap_long, k=k, short_s=short_s)

    # A pair of near-duplicate posts shares several bands: it counts once, under its smallest.
    kept = []
    near_best: dict[tuple[str, str], tuple[Row, Row]] = {}
    for a, b in pairs:
        if a.kind == "near_text":
            best = near_best.get((a.post, b.post))
            if best is None or int(a.key) < int(best[0].key):
                near_best[(a.post, b.post)] = (a, b)
            continue
        kept.append((a, b))
    kept.extend(near_best.values())

    per_key: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    for a, b in kept:
        per_key[(a.account, b.account, a.kind, a.key)].append(abs(a.ts - b.ts))
    result: dict[tuple[str, str, int], dict[str, Any]] = {}
    for (acc_a, acc_b, kind, key), dts in sorted(per_key.items()):
        closest = min(dts)
        for w in windows:
            if closest > w * 1_000_000:
                continue
            e = result.setdefault(
                (acc_a, acc_b, w),
                {"weight": 0, **{f"w_{k}": 0 for k in KINDS}, "pairs": 0, "dts": [], "score": 0},
            )
            e["weight"] += 1
            e[f"w_{kind}"] += 1
            e["pairs"] += sum(1 for d in dts if d <= w * 1_000_000)
            e["dts"].append(closest)
            p = min(1.0, (n_key[(kind, key)] - 1) * 2 * w / span)
            e["score"] += round(-math.log10(p) * 1_000_000)
    candidates: dict[int, int] = defaultdict(int)
    degree: dict[tuple[str, int], int] = defaultdict(int)  # co-actions of an account at W
    for _, _, w in result:
        candidates[w] += 1
    for (acc_a, acc_b, _, _), dts in per_key.items():
        for w in windows:
            if min(dts) <= w * 1_000_000:
                degree[(acc_a, w)] += 1
                degree[(acc_b, w)] += 1
    total = {w: sum(v for (_, x), v in degree.items() if x == w) // 2 for w in windows}
    out = {}
    for (a, b, w), e in result.items():
        if e["weight"] < min_weight:
            continue
        dts = sorted(e.pop("dts"))
        threshold = max(0.0, math.log10(max(candidates[w], 1) / alpha))
        activity = activity_surprise(e["weight"], degree[(a, w)] * degree[(b, w)] / (2 * total[w]))
        e["min_dt_s"] = dts[0] / 1e6
        e["median_dt_s"] = dts[(len(dts) - 1) // 2] / 1e6
        score = min(e["score"], activity)
        e["significant"] = score >= math.ceil(threshold * 1_000_000)
        e["score_keys"] = e["score"] / 1e6
        e["score_activity"] = activity / 1e6
        e["score"] = score / 1e6
        out[(a, b, w)] = e
    return out


def activity_surprise(weight: int, lam: float) -> int:
    """``-log10 P(Poisson(lam) >= weight)`` bounded by the geometric tail, in millionths."""
    if lam >= weight:
        return 0
    log_fact = sum(math.log(j) for j in range(1, weight + 1))
    ln_p = -lam + weight * math.log(lam) - log_fact - math.log1p(-lam / (weight + 1))
    return round(max(0.0, -ln_p / math.log(10)) * 1_000_000)
