"""Planted, labelled activity: what the detectors are meant to find.

Each component adds posts to a :class:`Plant` together with its ground truth: which accounts
took part (label, group), which events happened (kind, key, time span) and which post belongs
to which event. The shapes follow research/coordination.md §3.4-3.5 and engine.md §1: groups
acting within 10-60 s, an app posting the same texts from hundreds of accounts over hours, a
hashtag bomb, a hijacked trend and a viral storm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import vocab
from .context import DAY, Context
from .frame import (
    POST,
    REPOST,
    Frame,
    Int,
    empty_lists,
    join_columns,
    list_text,
    lists,
    prefixed,
    tco_links,
)
from .population import Population

HOUR = 3600
_GROUP_APP_SUFFIXES = ("Share", "Cast", "Sync", "Poster", "Link")


@dataclass
class Event:
    kind: str
    group: str
    key: str | None = None
    key_row: int | None = None
    """A row of the plant whose post id is the key (reposted post), resolved after ids exist."""


@dataclass
class Plant:
    """Planted posts (rows numbered from ``first_row``) and their ground truth."""

    first_row: int
    frames: list[Frame] = field(default_factory=list)
    row_event: list[Int] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    accounts: list[tuple[Int, str, str]] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return sum(len(f) for f in self.frames)

    def rows(self, n: int) -> Int:
        """Row numbers of the next ``n`` posts (their t.co links and ids derive from them)."""
        start = self.first_row + self.n_rows
        return np.arange(start, start + n, dtype=np.int64)

    def register(self, events: list[Event]) -> int:
        """Add events; returns the index of the first, for :meth:`add`."""
        self.events.extend(events)
        return len(self.events) - len(events)

    def add(self, frame: Frame, event: Int) -> int:
        """Append ``frame`` (refs frame-local), row i belonging to event ``event[i]``.

        Returns the plant row of the frame's first row.
        """
        base = self.n_rows
        frame.ref = np.where(frame.ref >= 0, frame.ref + base, -1)
        self.row_event.append(event.astype(np.int64))
        self.frames.append(frame)
        return base


def _frame(
    acc: Int,
    t: Int,
    text: pa.Array,
    source: Int,
    lang: Int,
    *,
    kind: Int | None = None,
    ref: Int | None = None,
    urls: pa.ListArray | None = None,
    hashtags: pa.ListArray | None = None,
    mentions: pa.ListArray | None = None,
) -> Frame:
    n = len(acc)
    return Frame(
        acc=acc.astype(np.int64),
        t=t.astype(np.int64),
        kind=(kind if kind is not None else np.full(n, POST)).astype(np.int8),
        ref=ref if ref is not None else np.full(n, -1, np.int64),
        text=text,
        urls=urls if urls is not None else empty_lists(n),
        hashtags=hashtags if hashtags is not None else empty_lists(n),
        mentions=mentions if mentions is not None else empty_lists(n),
        media=empty_lists(n),
        source=source.astype(np.int16),
        lang=lang.astype(np.int8),
        place=np.full(n, -1, np.int16),
    )


def _one_list(values: pa.Array, has: np.ndarray[Any, Any]) -> pa.ListArray:
    """A one-item list where ``has``, an empty one elsewhere."""
    return lists(values.filter(pa.array(has)), has.astype(np.int64))


def group_app_name(g: int) -> str:
    parts = vocab.NAME_PARTS
    return f"{parts[g % len(parts)].title()} {_GROUP_APP_SUFFIXES[g // len(parts) % 5]}"


def coordinated(
    ctx: Context,
    pop: Population,
    rng: np.random.Generator,
    plant: Plant,
    groups: list[Int],
    events_per_group: tuple[int, int],
) -> None:
    """Groups whose members (~80 % per event) act within a per-group spread of 10-60 s.

    An event is identical text (with variants that normalisation removes or that leave a
    near-duplicate), a repost of the same post, or a share of the same campaign URL.
    """
    sizes = np.array([len(m) for m in groups])
    members = np.concatenate(groups)
    g_off = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    spread = rng.integers(10, 61, len(groups))
    apps = np.array([ctx.app(group_app_name(g)) for g in range(len(groups))])
    for g, m in enumerate(groups):
        plant.accounts.append((m, "coordinated", f"coord-{g:02d}"))

    n_ev = rng.integers(events_per_group[0], events_per_group[1] + 1, len(groups))
    ev_group = np.repeat(np.arange(len(groups)), n_ev)
    n_e = len(ev_group)
    ev_start = np.clip(ctx.times(rng, n_e), ctx.t0 + 1800, ctx.t1 - 120)
    ev_action = np.searchsorted([0.5, 0.75], rng.random(n_e), side="right")  # text, repost, url
    ev_lang = pop.lang[members[g_off[ev_group]]]

    # One row per (event, member); about 80 % of members take part, at least two.
    ev_rows = np.repeat(np.arange(n_e), sizes[ev_group])
    first = np.concatenate([[0], np.cumsum(sizes[ev_group])[:-1]])
    pos = np.arange(len(ev_rows)) - np.repeat(first, sizes[ev_group])
    take = rng.random(len(ev_rows)) < 0.8
    take[pos < 2] = True
    ev_rows, pos = ev_rows[take], pos[take]
    acc = members[g_off[ev_group[ev_rows]] + pos]
    g_rows = ev_group[ev_rows]
    t = ev_start[ev_rows] + (rng.random(len(ev_rows)) * spread[g_rows]).astype(np.int64)
    app = np.where(rng.random(len(acc)) < 0.7, apps[g_rows], pop.app_main[acc])
    base = ctx.sentences(rng, ev_lang, 8, 14)
    action = ev_action[ev_rows]
    events = [Event("coordinated", f"coord-{g:02d}") for g in ev_group]
    e0 = plant.register(events)
    for e in np.flatnonzero(ev_action == 0):
        events[e].key = base[int(e)].as_py()

    # Identical text, with variants.
    sel = np.flatnonzero(action == 0)
    text = base.take(pa.array(ev_rows[sel]))
    variant = np.searchsorted([0.5, 0.6, 0.7, 0.8, 0.9], rng.random(len(sel)), side="right")
    n = len(sel)
    handle = pop.names.take(pa.array(members[rng.integers(0, len(members), n)]))
    tag = pa.array(vocab.TAGS).take(pa.array(rng.integers(0, 20, n)))
    shown = [
        text,
        pc.utf8_upper(text),
        pc.binary_join_element_wise(text, pa.scalar("!!"), ""),
        join_columns(prefixed("@", handle), text),
        join_columns(text, prefixed("#", tag)),
        pc.replace_substring_regex(text, r"\s+\S+$", ""),
    ]
    out = shown[0]
    for v in range(1, len(shown)):
        out = pc.if_else(pa.array(variant == v), shown[v], out)
    frame = _frame(
        acc[sel],
        t[sel],
        out,
        app[sel],
        ev_lang[ev_rows[sel]],
        mentions=_one_list(handle, variant == 3),
        hashtags=_one_list(pc.utf8_lower(tag), variant == 4),
    )
    plant.add(frame, e0 + ev_rows[sel])

    # A repost of the same post: the first member posts it 5-30 min before the others repost.
    sel = np.flatnonzero(action == 1)
    seed, rest = sel[pos[sel] == 0], sel[pos[sel] != 0]
    seed_of_event = np.full(n_e, -1, np.int64)
    seed_of_event[ev_rows[seed]] = np.arange(len(seed))
    local = seed_of_event[ev_rows[rest]]
    seed_text = base.take(pa.array(ev_rows[seed]))
    author = pop.names.take(pa.array(acc[seed])).take(pa.array(local))
    rt_text = pc.binary_join_element_wise(
        pa.scalar("RT @"), author, pa.scalar(": "), seed_text.take(pa.array(local)), ""
    )
    both = np.concatenate([seed, rest])
    is_rt = np.arange(len(both)) >= len(seed)
    frame = _frame(
        acc[both],
        np.concatenate([ev_start[ev_rows[seed]] - rng.integers(300, 1800, len(seed)), t[rest]]),
        pa.concat_arrays([seed_text, rt_text]),
        app[both],
        ev_lang[ev_rows[both]],
        kind=np.where(is_rt, REPOST, POST),
        ref=np.concatenate([np.full(len(seed), -1), local]),
        mentions=lists(author, is_rt.astype(np.int64)),
    )
    first_row = plant.add(frame, e0 + ev_rows[both])
    for k, e in enumerate(ev_rows[seed]):
        events[e].key_row = first_row + k

    # A share of the same campaign URL, each with its own words and t.co link.
    sel = np.flatnonzero(action == 2)
    n = len(sel)
    parts = vocab.NAME_PARTS
    domain = pa.array([f"{parts[g % len(parts)]}-{g:02d}-news.info" for g in range(len(groups))])
    ev_url = pc.binary_join_element_wise(
        pa.scalar("https://"), domain.take(pa.array(ev_group)), pa.scalar("/story/"),
        pa.array(np.arange(n_e)).cast(pa.string()), "",
    )  # fmt: skip
    for e in np.unique(ev_rows[sel]):
        events[e].key = ev_url[int(e)].as_py()
    words = ctx.sentences(rng, ev_lang[ev_rows[sel]], 4, 10)
    frame = _frame(
        acc[sel],
        t[sel],
        join_columns(words, tco_links(plant.rows(n))),
        app[sel],
        ev_lang[ev_rows[sel]],
        urls=lists(ev_url.take(pa.array(ev_rows[sel])), np.ones(n, np.int64)),
    )
    plant.add(frame, e0 + ev_rows[sel])


def app_campaign(
    ctx: Context, pop: Population, rng: np.random.Generator, plant: Plant, accounts: Int
) -> None:
    """One rare app posts the same 30 texts from 200 accounts, each copy at a uniform random
    time within 3 h of its text's release and with its own t.co link (the 2014 app pattern)."""
    n_texts, window = 30, 3 * HOUR
    plant.accounts.append((accounts, "app", "app"))
    span = ctx.t1 - ctx.t0
    length = min(int(3.5 * DAY), int(0.8 * span))
    begin = ctx.t0 + min(int(0.35 * span), span - length)
    release = begin + np.sort(rng.integers(0, max(length - window, 1), n_texts))
    lang = np.where(rng.random(n_texts) < 2 / 3, 1, 0)
    message = ctx.sentences(rng, lang, 10, 16)
    target = pa.array([f"https://relay-media.net/a/{j + 1:02d}" for j in range(n_texts)])
    events = [Event("app_campaign", "app", key=message[j].as_py()) for j in range(n_texts)]
    e0 = plant.register(events)

    text_of = np.repeat(np.arange(n_texts), len(accounts))
    acc = np.tile(accounts, n_texts)
    keep = rng.random(len(acc)) < 0.9
    text_of, acc = text_of[keep], acc[keep]
    n = len(acc)
    t = release[text_of] + rng.integers(0, window, n)
    idx = pa.array(text_of)
    frame = _frame(
        acc,
        t,
        join_columns(message.take(idx), tco_links(plant.rows(n))),
        np.full(n, ctx.app(vocab.APP_CAMPAIGN_APP)),
        lang[text_of],
        urls=lists(target.take(idx), np.ones(n, np.int64)),
    )
    plant.add(frame, e0 + text_of)


def bomb(
    ctx: Context, pop: Population, rng: np.random.Generator, plant: Plant, accounts: Int
) -> None:
    """A handful of fresh accounts post ~900 near-identical posts with one tag in ~2 h."""
    plant.accounts.append((accounts, "bomb", "bomb"))
    n = 100 * len(accounts)
    span = ctx.t1 - ctx.t0
    start = ctx.t0 + int(0.6 * span) // DAY * DAY + 19 * HOUR
    start = min(start, ctx.t1 - 2 * HOUR)
    tag = vocab.BOMB_TAG
    url = "https://cedar-notice.info/read"
    e0 = plant.register([Event("bomb", "bomb", key=tag.lower())])
    acc = accounts[rng.integers(0, len(accounts), n)]
    lang = np.zeros(n, np.int8)
    template = ctx.sentences(rng, np.zeros(1, np.int8), 8, 8)[0].as_py()
    slot = pa.array(vocab.EN_WORDS[40:120]).take(pa.array(rng.integers(0, 80, n)))
    has_url = rng.random(n) < 0.7
    tco = pc.if_else(pa.array(has_url), tco_links(plant.rows(n)), pa.scalar(None, pa.string()))
    text = join_columns(
        pa.repeat(pa.scalar(template), n), slot, pa.repeat(pa.scalar("#" + tag), n), tco
    )
    frame = _frame(
        acc,
        start + np.sort(rng.integers(0, 2 * HOUR, n)),
        text,
        np.where(rng.random(n) < 0.6, ctx.app("Twitter Web Client"), ctx.app("TweetDeck")),
        lang,
        urls=_one_list(pa.repeat(pa.scalar(url), n), has_url),
        hashtags=lists(pa.repeat(pa.scalar(tag.lower()), n), np.ones(n, np.int64)),
    )
    plant.add(frame, np.full(n, e0))


def hijack(
    ctx: Context,
    pop: Population,
    rng: np.random.Generator,
    plant: Plant,
    accounts: Int,
    burst_day: int,
) -> None:
    """A pushing group floods a trending tag for an hour with off-topic text, stacked trending
    tags, its own group tag and links to its two domains."""
    plant.accounts.append((accounts, "hijack", "hijack"))
    trend = vocab.TRENDS[0]
    own = vocab.COMMUNITY_TAGS[0]
    e0 = plant.register([Event("hijack", "hijack", key=trend.lower())])
    per = np.clip(1 + rng.poisson(0.8, len(accounts)), 1, 4)
    acc = np.repeat(accounts, per)
    n = len(acc)
    start = ctx.t0 + burst_day * DAY + 18 * HOUR
    t = start + rng.integers(0, HOUR, n)
    lang = pop.lang[acc]
    names = [trend, *vocab.TRENDS[1:4], *vocab.TAGS[:8], own]
    m = len(names) - 2
    k = rng.integers(2, 7, n)
    # Per post: the trend, then k distinct other tags in random order, then the group's own.
    order = 1 + np.argsort(rng.random((n, m)), axis=1)
    grid = np.full((n, m + 2), -1, np.int64)
    grid[:, 0] = 0
    grid[:, 1 : m + 1] = np.where(np.arange(m)[None, :] < k[:, None], order, -1)
    grid[np.arange(n), k + 1] = m + 1
    shown = lists(pa.array(names).take(pa.array(grid[grid >= 0])), k + 2)
    domains = pa.array(["https://lantern-bulletin.net/p/", "https://bluelantern-notes.org/"])
    url = pc.binary_join_element_wise(
        domains.take(pa.array(rng.integers(0, 2, n))),
        pa.array(rng.integers(1, 6, n)).cast(pa.string()),
        "",
    )
    text = join_columns(
        ctx.sentences(rng, lang, 5, 12), list_text("#", shown), tco_links(plant.rows(n))
    )
    frame = _frame(
        acc,
        t,
        text,
        pop.app_main[acc],
        lang,
        urls=lists(url, np.ones(n, np.int64)),
        hashtags=lists(pc.utf8_lower(shown.flatten()), pc.list_value_length(shown).to_numpy()),
    )
    plant.add(frame, np.full(n, e0))


def viral(
    ctx: Context,
    pop: Population,
    rng: np.random.Generator,
    plant: Plant,
    author: int,
    reposters: Int,
) -> None:
    """One post reposted by 20,000 distinct accounts within 15 minutes: a hot key, not a plot."""
    plant.accounts.append((reposters, "viral", "viral"))
    n = len(reposters)
    span = ctx.t1 - ctx.t0
    t_post = ctx.t0 + int(0.5 * span) // DAY * DAY + 15 * HOUR
    event = Event("viral", "viral")
    e0 = plant.register([event])
    lang = pop.lang[[author]]
    text = ctx.sentences(rng, lang, 8, 12)
    name = pop.names.take(pa.array([author]))
    rt = pc.binary_join_element_wise(pa.scalar("RT @"), name, pa.scalar(": "), text, "")
    idx = pa.array(np.zeros(n, np.int64))
    frame = _frame(
        np.concatenate([[author], reposters]),
        np.concatenate([[t_post], t_post + 60 + rng.integers(0, 15 * 60, n)]),
        pa.concat_arrays([text, rt.take(idx)]),
        np.concatenate([[pop.app_main[author]], pop.app_main[reposters]]),
        np.full(n + 1, lang[0]),
        kind=np.concatenate([[POST], np.full(n, REPOST)]),
        ref=np.concatenate([[-1], np.zeros(n, np.int64)]),
        mentions=lists(name.take(idx), np.r_[0, np.ones(n, np.int64)]),
    )
    event.key_row = plant.add(frame, np.full(n + 1, e0))
