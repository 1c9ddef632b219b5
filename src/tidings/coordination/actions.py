"""The action table: one row per (kind, key, post), the input of the windowed join.

A *co-action* is two accounts doing the same thing, meaning acting on the same key of the same
kind, close in time. The kinds:

=============  ==========================================================================
kind           key (from canonical posts; reposts count only as reposts)
=============  ==========================================================================
repost         the reposted post's id
quote          the quoted post's id
reply          the replied-to post's id
text           the normalised text (:func:`tidings.keys.text_key`), originals only
near_text      MinHash LSH band keys of the normalised text (:class:`tidings.keys.MinHasher`)
url            each canonical URL (:func:`tidings.keys.canonical_url`)
domain         each registered domain of those URLs (weaker: many pages share a domain)
hashtag_set    the exact set of 3+ hashtags (:func:`tidings.keys.hashtag_set_key`)
app            the client app, only for apps used by few accounts (a common app is no evidence)
=============  ==========================================================================

Text, URL, domain and hashtag-set keys come from originals, quotes and replies, never from
reposts: a repost carries its original's text and links, and counting them again would make
one repost look like several co-actions. Empty values never become keys.

Columns: ``kind`` (a small integer code, :data:`KIND_CODES`), ``key`` (readable string),
``aid`` (the account as a dense integer in account-id order, so integer order is string
order), ``post_id``, ``ts`` (µs since the epoch), ``app``, and ``sub``: for near-duplicate and
domain rows, the hash of what would make the match an exact one (the normalised text, the URL),
so that the join can skip pairs already counted under ``text`` or ``url``. Keys are hashed later,
and only those that two rows share (:mod:`tidings.coordination.join`): most are unique.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..engine import Engine
from ..keys import (
    MinHasher,
    canonical_url_sql,
    hashtag_set_sql,
    long_enough_sql,
    normalize_text_sql,
    registered_domains,
    url_host_sql,
)
from ..keys._sql import sql_string

__all__ = ["EXACT_KINDS", "KINDS", "KIND_CODES", "ActionOptions", "build_actions", "kind_name_sql"]

KINDS: tuple[str, ...] = (
    "repost",
    "quote",
    "reply",
    "text",
    "near_text",
    "url",
    "domain",
    "hashtag_set",
    "app",
)
"""Every action kind, in output column order (``w_<kind>``)."""

EXACT_KINDS: tuple[str, ...] = tuple(k for k in KINDS if k != "near_text")
"""The kinds computed in SQL alone (no MinHash step)."""

KIND_CODES: dict[str, int] = {k: i for i, k in enumerate(KINDS)}


def kind_name_sql(col: str) -> str:
    """SQL turning a kind code column back into its name."""
    whens = " ".join(f"WHEN {i} THEN {sql_string(k)}" for k, i in KIND_CODES.items())
    return f"CASE {col} {whens} END"


class ActionOptions:
    """Key rules of the action table (see :class:`tidings.coordination.Coordination`)."""

    def __init__(
        self,
        kinds: Sequence[str],
        *,
        min_text_chars: int,
        min_text_words: int,
        min_hashtags: int,
        app_max_share: float,
        app_min_accounts: int,
        hasher: MinHasher,
    ) -> None:
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown kinds {unknown}; choose from {', '.join(KINDS)}")
        if not kinds:
            raise ValueError("at least one kind is needed")
        self.kinds = tuple(k for k in KINDS if k in kinds)
        self.min_text_chars = min_text_chars
        self.min_text_words = min_text_words
        self.min_hashtags = min_hashtags
        self.app_max_share = app_max_share
        self.app_min_accounts = app_min_accounts
        self.hasher = hasher


_POSTS = """
SELECT p.post_id, p.account_id, a.aid, epoch_us(p.created_at) AS ts,
       nullif(trim(p.source), '') AS app,
       nullif(trim(p.repost_of), '') AS repost_of,
       nullif(trim(p.quote_of), '') AS quote_of,
       nullif(trim(p.reply_to), '') AS reply_to,
       p.text, p.urls, p.hashtags
FROM posts p JOIN co_accounts a ON a.account_id = p.account_id
WHERE p.post_id IS NOT NULL AND p.created_at IS NOT NULL
"""

_ACCOUNTS = """
SELECT account_id, CAST(row_number() OVER (ORDER BY account_id) AS BIGINT) AS aid
FROM (SELECT DISTINCT account_id FROM posts WHERE account_id IS NOT NULL AND account_id <> '')
"""


_NO_SUB = "CAST(NULL AS BIGINT)"


def _row(kind: str, key: str, src: str, where: str) -> str:
    return (
        f"SELECT {KIND_CODES[kind]} AS kind, {key} AS key, "
        f"aid, post_id, ts, app, {_NO_SUB} AS sub FROM {src} WHERE {where}"
    )


def _minhash_fn(hasher: MinHasher) -> object:
    def fn(batch: pa.RecordBatch) -> pa.RecordBatch:
        idx, keys = hasher.band_keys(batch.column("norm"))
        take = pa.array(idx)
        return pa.record_batch(
            {
                "aid": batch.column("aid").take(take),
                "post_id": batch.column("post_id").take(take),
                "sub": batch.column("sub").take(take),
                "ts": batch.column("ts").take(take),
                "app": batch.column("app").take(take),
                "key_h": pa.array(keys, pa.int64()),
            }
        )

    return fn


_BANDS_SCHEMA = pa.schema(
    [
        ("aid", pa.int64()),
        ("post_id", pa.string()),
        ("sub", pa.int64()),
        ("ts", pa.int64()),
        ("app", pa.string()),
        ("key_h", pa.int64()),
    ]
)


def _drop_singletons(table: pa.Table) -> pa.Table:
    """Band keys seen once can never pair: drop them before they cost memory in the join."""
    keys = table.column("key_h").to_numpy()
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return table.filter(pa.array(counts[inverse] > 1))


def build_actions(engine: Engine, opts: ActionOptions) -> dict[str, int]:
    """Materialise ``co_accounts``, ``co_posts`` and ``co_actions`` on ``engine`` (which has a
    ``posts`` view); returns row counts per stage and kind, for the run record."""
    counts: dict[str, int] = {}
    counts["accounts"] = engine.materialize("co_accounts", _ACCOUNTS)
    counts["posts"] = engine.materialize("co_posts", _POSTS)
    parts: list[str] = []
    kinds = set(opts.kinds)
    for kind, col in (("repost", "repost_of"), ("quote", "quote_of"), ("reply", "reply_to")):
        if kind in kinds:
            parts.append(_row(kind, col, "co_posts", f"{col} IS NOT NULL"))

    if kinds & {"text", "near_text"}:
        norm = normalize_text_sql("text")
        long_enough = long_enough_sql(
            "norm", min_chars=opts.min_text_chars, min_words=opts.min_text_words
        )
        # Normalised in its own step: a filter on the result would be pushed into the
        # projection and run the normaliser once more per condition (measured: 2x).
        counts["texts"] = engine.materialize(
            "co_texts",
            f"SELECT aid, post_id, ts, app, {norm} AS norm FROM co_posts "
            "WHERE repost_of IS NULL AND text IS NOT NULL",
        )
        if "text" in kinds:
            parts.append(_row("text", "norm", "co_texts", long_enough))
        if "near_text" in kinds:
            # sub: a near-duplicate match of two identical texts is the exact text match again.
            sub = "strong_hash(norm)" if "text" in kinds else _NO_SUB
            engine.map_batches(
                "co_bands",
                f"SELECT aid, post_id, {sub} AS sub, ts, app, norm FROM co_texts "
                f"WHERE {long_enough}",
                _minhash_fn(opts.hasher),  # type: ignore[arg-type]
                _BANDS_SCHEMA,
                finalize=_drop_singletons,
            )
            parts.append(
                f"SELECT {KIND_CODES['near_text']} AS kind, CAST(b.key_h AS VARCHAR) AS key, "
                "b.aid, b.post_id, b.ts, b.app, b.sub FROM co_bands b "
                # Band keys seen once can never pair (DuckDB drops them before this already).
                "WHERE b.key_h IN (SELECT key_h FROM co_bands GROUP BY key_h HAVING count(*) > 1)"
            )

    if kinds & {"url", "domain"}:
        counts["urls"] = engine.materialize(
            "co_urls",
            f"SELECT DISTINCT aid, post_id, ts, app, {canonical_url_sql('u')} AS url, "
            f"{url_host_sql('u')} AS host FROM ("
            "SELECT aid, post_id, ts, app, unnest(urls) AS u FROM co_posts "
            "WHERE repost_of IS NULL AND urls IS NOT NULL) WHERE u IS NOT NULL",
        )
        if "url" in kinds:
            parts.append(_row("url", "url", "co_urls", "url IS NOT NULL"))
        if "domain" in kinds:
            hosts = engine.arrow("SELECT DISTINCT host FROM co_urls WHERE host <> ''")
            engine.register_arrow(
                "co_domains", registered_domains(hosts.column("host").to_pylist())
            )
            # sub: two posts sharing a URL share its domain too; that is one co-action.
            sub = "strong_hash(min(u.url))" if "url" in kinds else _NO_SUB
            parts.append(
                f"SELECT {KIND_CODES['domain']} AS kind, d.domain AS key, "
                "u.aid, u.post_id, u.ts, u.app, "
                f"{sub} AS sub FROM co_urls u JOIN co_domains d ON d.host = u.host "
                "GROUP BY d.domain, u.aid, u.post_id, u.ts, u.app"
            )

    if "hashtag_set" in kinds:
        tags = hashtag_set_sql("hashtags", min_tags=opts.min_hashtags)
        parts.append(
            _row(
                "hashtag_set",
                "tags",
                f"(SELECT aid, post_id, ts, app, {tags} AS tags FROM co_posts "
                "WHERE repost_of IS NULL AND hashtags IS NOT NULL)",
                "tags IS NOT NULL",
            )
        )

    if "app" in kinds:
        n_accounts = counts["accounts"]
        limit = max(opts.app_min_accounts, int(opts.app_max_share * n_accounts))
        counts["app_max_accounts"] = limit
        engine.materialize(
            "co_rare_apps",
            "SELECT app FROM co_posts WHERE app IS NOT NULL GROUP BY app "
            f"HAVING count(DISTINCT aid) <= {limit}",
        )
        parts.append(_row("app", "app", "co_posts", "app IN (SELECT app FROM co_rare_apps)"))

    union = " UNION ALL ".join(f"({p})" for p in parts)
    counts["actions"] = engine.materialize(
        "co_actions",
        f"SELECT kind, key, aid, post_id, ts, app, sub FROM ({union})",
    )
    per_kind = engine.arrow("SELECT kind, count(*) AS n FROM co_actions GROUP BY kind")
    for code, n in zip(
        per_kind.column("kind").to_pylist(), per_kind.column("n").to_pylist(), strict=True
    ):
        counts[f"actions_{KINDS[code]}"] = int(n)
    return counts
