"""The accounts of a synthetic collection: who posts how much, from which app, in which language.

Activity is lognormal (a few accounts post a large share of everything, most post once or
twice), accounts were created over years, and each has a main client app and sometimes another,
so app-based detectors meet the same mix they would in a 2014 collection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import vocab
from .frame import Int, int_strings, join_words, prefixed

F64 = np.ndarray[Any, np.dtype[np.float64]]

ACTIVITY_SIGMA = 1.8
"""Lognormal sigma of posts per account: the top 1 % of accounts post about 30 % of all posts."""

_DAY = 86_400


@dataclass
class Population:
    ids: pa.Array
    names: pa.Array
    display: pa.Array
    description: pa.Array
    location: pa.Array
    lang: Int
    app_main: Int
    app_alt: Int
    activity: F64
    followers: Int
    following: Int
    created: Int
    community: Int

    def __len__(self) -> int:
        return len(self.activity)

    def activity_cdf(self) -> F64:
        c = np.cumsum(self.activity)
        cdf: F64 = c / c[-1]
        return cdf

    def fame_cdf(self) -> F64:
        """Who gets mentioned: weighted by followers."""
        c = np.cumsum(np.sqrt(self.followers.astype(np.float64) + 1.0))
        cdf: F64 = c / c[-1]
        return cdf


def sample(cdf: F64, rng: np.random.Generator, n: int) -> Int:
    """``n`` indices drawn with the probabilities that ``cdf`` accumulates."""
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1).astype(
        np.int64
    )


def zipf_cdf(n: int, s: float = 1.0) -> F64:
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** s
    c = np.cumsum(w)
    cdf: F64 = c / c[-1]
    return cdf


def _handles(rng: np.random.Generator, n: int) -> pa.Array:
    parts = pa.array(vocab.NAME_PARTS)
    k = len(vocab.NAME_PARTS)
    a = parts.take(pa.array(rng.integers(0, k, n)))
    b = parts.take(pa.array(rng.integers(0, k, n)))
    sep = pa.array(np.where(rng.random(n) < 0.25, "_", ""))
    digits = rng.integers(0, 10_000, n)
    num = pc.if_else(pa.array(rng.random(n) < 0.6), int_strings(digits), "")
    names = pc.binary_join_element_wise(a, sep, b, num, "")
    # Handles are unique: a repeat gets the account's row number appended.
    arr = np.asarray(names.to_numpy(zero_copy_only=False), dtype=object)
    _, first = np.unique(arr, return_index=True)
    repeat = np.ones(n, bool)
    repeat[first] = False
    rownum = prefixed("_", int_strings(np.arange(n, dtype=np.int64)))
    return pc.binary_join_element_wise(names, pc.if_else(pa.array(repeat), rownum, ""), "")


def make_population(
    n: int,
    rng: np.random.Generator,
    *,
    start: int,
    words: pa.Array,
    en_cdf: F64,
    ar_cdf: F64,
    n_en: int,
    n_common_apps: int,
    n_rare_apps: int,
) -> Population:
    """``n`` accounts; ``start`` is the collection's first second (accounts predate it)."""
    lang = (rng.random(n) < 0.45).astype(np.int8)  # 0 en, 1 ar
    shares = np.array([s for _, s in vocab.COMMON_APPS])
    app_main = np.searchsorted(np.cumsum(shares / shares.sum()), rng.random(n), side="right")
    app_main = np.minimum(app_main, n_common_apps - 1).astype(np.int16)
    rare = rng.random(n) < 0.006
    app_main[rare] = (n_common_apps + rng.integers(0, n_rare_apps, int(rare.sum()))).astype(
        np.int16
    )
    # The second client is usually the web client or a phone app.
    app_alt = rng.choice(np.array([0, 1, 2, 3], np.int16), n, p=[0.3, 0.2, 0.4, 0.1])

    activity = rng.lognormal(0.0, ACTIVITY_SIGMA, n)
    followers = np.round(rng.lognormal(4.5, 1.6, n) * activity**0.4).astype(np.int64)
    following = np.round(rng.lognormal(5.3, 1.0, n)).astype(np.int64)
    age_days = np.clip(rng.exponential(550.0, n), 3, 2600)
    created = start - (age_days * _DAY).astype(np.int64) - rng.integers(0, _DAY, n)

    n_comm = len(vocab.COMMUNITY_TAGS)
    community = np.where(rng.random(n) < 0.004 * n_comm, rng.integers(0, n_comm, n), -1).astype(
        np.int16
    )

    handles = _handles(rng, n)
    parts = pa.array(vocab.NAME_PARTS)
    first, last = (parts.take(pa.array(rng.integers(0, len(parts), n))) for _ in range(2))
    en_names = pc.binary_join_element_wise(pc.utf8_capitalize(first), pc.utf8_capitalize(last), " ")
    ar_names = pa.array(vocab.AR_NAMES).take(pa.array(rng.integers(0, len(vocab.AR_NAMES), n)))
    display = pc.if_else(pa.array(lang == 1), ar_names, en_names)

    n_words = rng.integers(3, 9, n)
    u = rng.random(int(n_words.sum()))
    row_lang = np.repeat(lang, n_words)
    idx = np.where(
        row_lang == 1,
        n_en + 3 * np.searchsorted(ar_cdf, u, side="right").clip(0, len(ar_cdf) - 1),
        np.searchsorted(en_cdf, u, side="right").clip(0, len(en_cdf) - 1),
    )
    bio = join_words(words, idx, n_words)
    description = pc.if_else(pa.array(rng.random(n) < 0.6), bio, pa.scalar(None, pa.string()))
    places = pa.array([p[0] for p in vocab.PLACES])
    loc = places.take(pa.array(rng.integers(0, len(vocab.PLACES), n)))
    location = pc.if_else(pa.array(rng.random(n) < 0.4), loc, pa.scalar(None, pa.string()))

    ids = int_strings(
        10_000_000 + ((np.arange(n, dtype=np.int64) * 2_654_435_761 + 97) % (1 << 31))
    )
    return Population(
        ids=ids,
        names=handles,
        display=display,
        description=description,
        location=location,
        lang=lang,
        app_main=app_main,
        app_alt=app_alt,
        activity=activity,
        followers=followers,
        following=following,
        created=created,
        community=community,
    )


def accounts_table(pop: Population, posts_per_account: Int, rng: np.random.Generator) -> pa.Table:
    """Canonical accounts of those that posted; ``statuses`` exceeds what the collection saw."""
    from .. import schema

    rows = np.flatnonzero(posts_per_account > 0)
    idx = pa.array(rows)
    n = len(rows)
    statuses = posts_per_account[rows] * np.round(rng.lognormal(2.5, 1.0, n)).astype(np.int64)
    cols = {
        "account_id": pop.ids.take(idx),
        "platform": pa.repeat(pa.scalar("twitter"), n),
        "account_name": pop.names.take(idx),
        "display_name": pop.display.take(idx),
        "description": pop.description.take(idx),
        "location": pop.location.take(idx),
        "created_at": pa.array(pop.created[rows] * 1_000_000, pa.timestamp("us", tz="UTC")),
        "followers": pa.array(pop.followers[rows]),
        "following": pa.array(pop.following[rows]),
        "statuses": pa.array(statuses + posts_per_account[rows]),
        "withheld_in": pa.nulls(n, pa.list_(pa.string())),
        "dataset": pa.repeat(pa.scalar("demo"), n),
    }
    return pa.Table.from_arrays([cols[f.name] for f in schema.ACCOUNTS], schema=schema.ACCOUNTS)
