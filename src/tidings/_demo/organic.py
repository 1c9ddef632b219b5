"""The organic background: what a collection looks like when nobody coordinates anything.

A block is generated as cascades: originals first (times from the daily cycle, links from a
heavy-tailed pool whose popular URLs live all month, tags with daily trend waves), then the
reactions to them (reposts, replies, quotes) with Pareto popularity and lognormal delays. A block
only references its own originals, so blocks are independent and memory stays bounded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import vocab
from .context import Context
from .frame import (
    POST,
    QUOTE,
    REPLY,
    REPOST,
    Frame,
    Int,
    base62,
    empty_lists,
    join_columns,
    list_text,
    lists,
    pair_lists,
    prefixed,
    prepend,
    tco_links,
)
from .population import Population, sample

ORIGINAL_SHARE = 0.55
REACTIONS = {REPOST: 0.35, REPLY: 0.08, QUOTE: 0.02}
URL_SHARE = 0.25
STOCK_SHARE = 0.01
REPOST_DELAY_MEDIAN_S = 1200.0
POPULARITY_ALPHA = 1.4


def trend_curves(days: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Share of originals carrying each trending tag, per day (rows follow ``vocab.TRENDS``).

    The tournament tags run daily from a third of the way in, strongest on match days; the heat
    wave peaks early, exam results on one day, the sale at weekends.
    """
    d = np.arange(days, dtype=np.float64)
    tournament = np.where(d >= days * 0.35, 0.012 + 0.01 * (d.astype(int) % 2 == 0), 0.0005)
    heat = 0.015 * np.exp(-0.5 * ((d - days * 0.25) / max(days * 0.08, 1.0)) ** 2)
    exams = 0.02 * np.exp(-0.5 * ((d - days * 0.7) / 0.8) ** 2)
    sale = np.where(d.astype(int) % 7 >= 5, 0.008, 0.001)
    return np.vstack([tournament, heat, exams, sale, tournament * 0.8, heat * 0.8])


def _url_days(ctx: Context, rng: np.random.Generator, j: Int) -> Int:
    """The day a post shares URL ``j``: near the URL's birth, any day for the long-lived ones."""
    spread = rng.exponential(1.0, len(j)) * np.minimum(ctx.url_life[j], 1e6)
    d = ctx.url_birth[j] + np.where(rng.random(len(j)) < 0.8, spread, -0.3 * spread)
    d = np.abs(d)
    d = np.where(d >= ctx.days, 2 * ctx.days - d, d)
    d = np.where((d < 0) | (ctx.url_life[j] > 1e6), rng.uniform(0, ctx.days, len(j)), d)
    return np.clip(d.astype(np.int64), 0, ctx.days - 1)


def _hashtags(
    ctx: Context, pop: Population, rng: np.random.Generator, acc: Int, day: Int, lang: Any
) -> pa.ListArray:
    n = len(acc)
    rows: list[Int] = []
    tags: list[Int] = []
    n_trends, n_comm = len(vocab.TRENDS), len(vocab.COMMUNITY_TAGS)
    topical = np.flatnonzero(rng.random(n) < 0.2)
    k = 1 + rng.poisson(0.4, len(topical))
    rows.append(np.repeat(topical, k))
    t_idx = np.searchsorted(ctx.topical_cdf, rng.random(int(k.sum())), side="right")
    tags.append(n_trends + n_comm + t_idx.clip(0, len(ctx.topical_cdf) - 1))
    curves = trend_curves(ctx.days)
    for t, name in enumerate(vocab.TRENDS):
        p = curves[t][day]
        if not name.isascii():
            p = np.where(lang == 1, p * 2, 0.0)
        hit = np.flatnonzero(rng.random(n) < p)
        rows.append(hit)
        tags.append(np.full(len(hit), t))
    comm = pop.community[acc]
    member = np.flatnonzero((comm >= 0) & (rng.random(n) < 0.5))
    rows.append(member)
    tags.append(n_trends + comm[member].astype(np.int64))
    key = np.unique(np.concatenate(rows) * len(ctx.tags) + np.concatenate(tags))
    return pair_lists(
        n, key // len(ctx.tags), pa.array(ctx.tags).take(pa.array(key % len(ctx.tags)))
    )


def _url_variants(rng: np.random.Generator, urls: pa.Array) -> pa.Array:
    """What users paste: some ``www.`` prefixes and tracking parameters on top of the URL."""
    n = len(urls)
    www = pc.replace_substring(urls, "https://", "https://www.", max_replacements=1)
    already = pc.match_substring(urls, "https://www.")
    urls = pc.if_else(pa.array(rng.random(n) < 0.2), pc.if_else(already, urls, www), urls)
    has_q = pc.match_substring(urls, "?")
    utm = pc.binary_join_element_wise(
        urls, pc.if_else(has_q, "&", "?"), pa.scalar("utm_source=twitter&utm_medium=social"), ""
    )
    return pc.if_else(pa.array(rng.random(n) < 0.1), utm, urls)


def originals(
    ctx: Context, pop: Population, rng: np.random.Generator, first_row: int, n: int
) -> Frame:
    """``n`` original posts, whose rows get numbers from ``first_row`` on."""
    gidx = np.arange(first_row, first_row + n, dtype=np.int64)
    acc = sample(pop.activity_cdf(), rng, n)
    lang = pop.lang[acc]
    has_url = rng.random(n) < URL_SHARE
    url_rows = np.flatnonzero(has_url)
    j = sample(ctx.url_cdf, rng, len(url_rows))
    day = np.searchsorted(ctx.day_cdf, rng.random(n), side="right").clip(0, ctx.days - 1)
    day[url_rows] = _url_days(ctx, rng, j)
    t = ctx.times_on(rng, day)

    stock = (rng.random(n) < STOCK_SHARE) & ~has_url
    body = ctx.sentences(rng, lang, 3, 16)
    n_phrase = len(vocab.STOCK_PHRASES)
    phrase = np.where(lang == 1, rng.integers(6, n_phrase, n), rng.integers(0, 6, n))
    body = pc.if_else(pa.array(stock), pa.array(vocab.STOCK_PHRASES).take(pa.array(phrase)), body)

    tags = _hashtags(ctx, pop, rng, acc, day, lang)
    tags = pc.if_else(pa.array(stock), empty_lists(n), tags)
    ment_rows = np.flatnonzero((rng.random(n) < 0.15) & ~stock)
    m_count = np.where(rng.random(len(ment_rows)) < 0.8, 1, 2)
    m_rows = np.repeat(ment_rows, m_count)
    mentions = pair_lists(
        n, m_rows, pop.names.take(pa.array(sample(pop.fame_cdf(), rng, len(m_rows))))
    )

    url_vals = _url_variants(rng, ctx.url_pool.take(pa.array(j)))
    urls = lists(url_vals, has_url.astype(np.int64))
    tco = pc.if_else(pa.array(has_url), tco_links(gidx), pa.scalar(None, pa.string()))
    tag_text = list_text("#", tags)
    text = join_columns(list_text("@", mentions), body, tag_text, tco)

    has_media = (rng.random(n) < 0.1) & ~has_url & ~stock
    media_url = pc.binary_join_element_wise(
        pa.scalar("https://pbs.twimg.com/media/"),
        base62(gidx, 15, salt=1 << 50),
        pa.scalar(".jpg"),
        "",
    )
    media = lists(media_url.filter(pa.array(has_media)), has_media.astype(np.int64))

    source = np.where(rng.random(n) < 0.88, pop.app_main[acc], pop.app_alt[acc]).astype(np.int16)
    place = np.where(rng.random(n) < 0.02, rng.integers(0, len(vocab.PLACES), n), -1)
    return Frame(
        acc=acc,
        t=t,
        kind=np.full(n, POST, np.int8),
        ref=np.full(n, -1, np.int64),
        text=text,
        urls=urls,
        hashtags=pa.ListArray.from_arrays(tags.offsets, pc.utf8_lower(tags.values)),
        mentions=mentions,
        media=media,
        source=source,
        lang=lang.astype(np.int8),
        place=place.astype(np.int16),
    )


def reactions(
    ctx: Context,
    pop: Population,
    rng: np.random.Generator,
    orig: Frame,
    kind: int,
    n: int,
    weights: np.ndarray[Any, np.dtype[np.float64]],
    orig_offset: int = 0,
) -> Frame:
    """``n`` reposts, replies or quotes of ``orig``, chosen by popularity ``weights``.

    ``orig_offset`` is where ``orig``'s first row will sit in the concatenated frame.
    """
    cdf = np.cumsum(weights)
    tgt = sample(cdf / cdf[-1], rng, n)
    acc = sample(pop.activity_cdf(), rng, n)
    t_o = orig.t[tgt]
    delay = 1 + rng.lognormal(np.log(REPOST_DELAY_MEDIAN_S), 1.6, n).astype(np.int64)
    late = t_o + delay >= ctx.t1
    t = np.where(late, t_o + (rng.random(n) * (ctx.t1 - t_o)).astype(np.int64), t_o + delay)
    author = pop.names.take(pa.array(orig.acc[tgt]))
    idx = pa.array(tgt)
    source = np.where(rng.random(n) < 0.88, pop.app_main[acc], pop.app_alt[acc]).astype(np.int16)
    if kind == REPOST:
        text = pc.binary_join_element_wise(
            pa.scalar("RT @"), author, pa.scalar(": "), orig.text.take(idx), ""
        )
        return Frame(
            acc=acc,
            t=t,
            kind=np.full(n, REPOST, np.int8),
            ref=tgt + orig_offset,
            text=text,
            urls=orig.urls.take(idx),
            hashtags=orig.hashtags.take(idx),
            mentions=prepend(author, orig.mentions.take(idx)),
            media=orig.media.take(idx),
            source=source,
            lang=orig.lang[tgt],
            place=np.full(n, -1, np.int16),
        )
    lang = pop.lang[acc]
    body = ctx.sentences(rng, lang, 2, 12)
    if kind == REPLY:
        text = join_columns(prefixed("@", author), body)
        mentions = lists(author, np.ones(n, np.int64))
    else:
        text = body
        mentions = empty_lists(n)
    return Frame(
        acc=acc,
        t=t,
        kind=np.full(n, kind, np.int8),
        ref=tgt + orig_offset,
        text=text,
        urls=empty_lists(n),
        hashtags=empty_lists(n),
        mentions=mentions,
        media=empty_lists(n),
        source=source,
        lang=lang.astype(np.int8),
        place=np.full(n, -1, np.int16),
    )


def block(ctx: Context, pop: Population, rng: np.random.Generator, first_row: int, n: int) -> Frame:
    """``n`` organic posts: originals and the cascades of reactions they set off."""
    n_orig = max(1, round(n * ORIGINAL_SHARE))
    orig = originals(ctx, pop, rng, first_row, n_orig)
    share = np.array(list(REACTIONS.values()))
    counts = rng.multinomial(n - n_orig, share / share.sum())
    fame = (pop.followers[orig.acc].astype(np.float64) + 1.0) ** 0.25
    weights = (rng.pareto(POPULARITY_ALPHA, n_orig) + 1.0) * fame
    parts = [orig]
    for kind, k in zip(REACTIONS, counts, strict=True):
        parts.append(reactions(ctx, pop, rng, orig, kind, int(k), weights))
    return Frame.concat(parts, shift_refs=False)
