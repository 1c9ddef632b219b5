"""Column arrays of generated posts, and their assembly into canonical posts.

Every part of the generator (organic blocks, each planted component) fills a :class:`Frame`:
numpy columns for numbers and codes, Arrow arrays for text and lists. Strings are built with
Arrow compute kernels (take, list join), never in a Python loop, so 10M posts cost seconds.
Post ids are Twitter-style snowflakes derived from (time, global row number): unique, ordered in
time like real ids, and reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema

KINDS = ("post", "repost", "reply", "quote")
POST, REPOST, REPLY, QUOTE = range(4)
LANGS = ("en", "ar", "und")

_TWEPOCH_MS = 1288834974657
_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_MASK59 = np.uint64((1 << 59) - 1)

Int = np.ndarray[Any, Any]
"""A numpy array of row numbers, codes or times (dtype varies by column)."""


def snowflake(t: Int, gidx: Int) -> Int:
    """Twitter-like ids: milliseconds since Twitter's epoch in the high bits.

    The row number fills the low 22 bits and, above that, the milliseconds; two rows share an
    id only if they share the second and their row numbers differ by a multiple of 2^22 * 1000.
    """
    ms = t * 1000 + (gidx >> 22) % 1000
    ids: Int = ((ms - _TWEPOCH_MS) << 22) | (gidx & 0x3FFFFF)
    return ids


def base62(gidx: Int, width: int, salt: int = 0) -> pa.Array:
    """A distinct ``width``-character code per distinct row number (a bijection mod 2^59)."""
    v = ((gidx.astype(np.uint64) + np.uint64(salt)) * _MIX) & _MASK59
    out = np.empty((len(v), width), np.uint8)
    for k in range(width):
        out[:, -1 - k] = _B62[(v % np.uint64(62)).astype(np.intp)]
        v //= np.uint64(62)
    return pa.array(out.view(f"S{width}").ravel()).cast(pa.string())


def tco_links(gidx: Int) -> pa.Array:
    """The ``https://t.co/…`` link of each row: Twitter wraps every link in a fresh one."""
    return prefixed("https://t.co/", base62(gidx, 10))


def int_strings(values: Int) -> pa.Array:
    return pa.array(values, pa.int64()).cast(pa.string())


def offsets(counts: np.ndarray[Any, Any]) -> pa.Array:
    off = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=off[1:])
    return pa.array(off.astype(np.int32))


def lists(values: pa.Array, counts: np.ndarray[Any, Any]) -> pa.ListArray:
    """A list per row: the next ``counts[i]`` values."""
    return pa.ListArray.from_arrays(offsets(counts), values)


def empty_lists(n: int) -> pa.ListArray:
    return lists(pa.array([], pa.string()), np.zeros(n, np.int64))


def pair_lists(n: int, rows: Int, values: pa.Array) -> pa.ListArray:
    """Lists of ``n`` rows from (row, value) pairs, in pair order within a row."""
    order = np.argsort(rows, kind="stable")
    return lists(values.take(pa.array(order)), np.bincount(rows, minlength=n))


def prepend(items: pa.Array, tails: pa.ListArray) -> pa.ListArray:
    """``[items[i], *tails[i]]`` for each row."""
    n = len(items)
    lengths = pc.list_value_length(tails).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = tails.flatten()
    counts = lengths + 1
    off = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=off[1:])
    src = np.empty(int(off[-1]), np.int64)
    heads = off[:-1]
    src[heads] = np.arange(n)
    rest = np.ones(len(src), bool)
    rest[heads] = False
    src[rest] = n + np.arange(len(flat))
    return lists(pa.concat_arrays([items, flat.cast(items.type)]).take(pa.array(src)), counts)


def join_words(
    vocab: pa.Array, idx: np.ndarray[Any, Any], counts: np.ndarray[Any, Any]
) -> pa.Array:
    """Sentences: the words ``vocab[idx]``, ``counts[i]`` of them per row, joined by spaces."""
    return pc.binary_join(lists(vocab.take(pa.array(idx)), counts), " ")


def join_columns(*columns: pa.Array | None) -> pa.Array:
    """Row-wise join of text pieces with a space; null pieces are left out."""
    parts = [c for c in columns if c is not None]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, " ", null_handling="skip")


def prefixed(prefix: str, values: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(pa.scalar(prefix), values, "")


def list_text(prefix: str, items: pa.ListArray) -> pa.Array:
    """``"#a #b"`` from a list of ``a, b``; null where the list is empty."""
    flat = prefixed(prefix, items.flatten())
    joined = pc.binary_join(pa.ListArray.from_arrays(items.offsets, flat), " ")
    return pc.if_else(
        pc.equal(pc.list_value_length(items), 0), pa.scalar(None, pa.string()), joined
    )


def null_strings(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


@dataclass
class Frame:
    """Generated posts before they get ids and account names.

    ``acc`` indexes the account population, ``ref`` the row (in the same frame) that a repost,
    reply or quote points at (-1 for none), ``source`` the app list, ``place`` the place list.
    """

    acc: Int
    t: Int
    kind: Int
    ref: Int
    text: pa.Array
    urls: pa.ListArray
    hashtags: pa.ListArray
    mentions: pa.ListArray
    media: pa.ListArray
    source: Int
    lang: Int
    place: Int

    def __len__(self) -> int:
        return len(self.t)

    @staticmethod
    def concat(frames: list[Frame], *, shift_refs: bool = True) -> Frame:
        """One frame of all rows; ``shift_refs=False`` when refs already index the result."""
        base = np.cumsum([0, *(len(f) for f in frames[:-1])]) * int(shift_refs)
        cols: dict[str, Any] = {}
        for f in fields(Frame):
            parts = [getattr(fr, f.name) for fr in frames]
            if f.name == "ref":
                cols["ref"] = np.concatenate(
                    [np.where(p >= 0, p + b, -1) for p, b in zip(parts, base, strict=True)]
                )
            elif isinstance(parts[0], np.ndarray):
                cols[f.name] = np.concatenate(parts)
            else:
                cols[f.name] = pa.concat_arrays(parts)
        return Frame(**cols)


@dataclass
class Lookup:
    """What assembly needs from the population and the vocabularies."""

    account_ids: pa.Array
    account_names: pa.Array
    apps: pa.Array
    place_names: pa.Array
    place_lat: Int
    place_lon: Int


def post_ids(frame: Frame, first_row: int) -> Int:
    return snowflake(frame.t, np.arange(first_row, first_row + len(frame), dtype=np.int64))


def to_posts(frame: Frame, ids: Int, look: Lookup, rng: np.random.Generator) -> pa.Table:
    """The canonical posts table of a frame whose rows got ``ids``."""
    n = len(frame)
    id_str = int_strings(ids)

    def pick(values: pa.Array, rows: Int, keep: Int) -> pa.Array:
        # Taking with null indices copies only the kept strings: sparse columns stay small.
        return values.take(pa.array(np.where(keep, rows, 0), mask=~keep))

    def ref_of(kind: int) -> pa.Array:
        return pick(id_str, frame.ref, (frame.kind == kind) & (frame.ref >= 0))

    acc = pa.array(frame.acc)
    geo = frame.place >= 0
    pidx = np.where(geo, frame.place, 0)
    jitter = rng.normal(0.0, 0.03, (2, n))
    lat = np.where(geo, look.place_lat[pidx] + jitter[0], np.nan)
    lon = np.where(geo, look.place_lon[pidx] + jitter[1], np.nan)
    cols: dict[str, pa.Array] = {
        "post_id": id_str,
        "platform": pa.repeat(pa.scalar("twitter"), n),
        "account_id": look.account_ids.take(acc),
        "account_name": look.account_names.take(acc),
        "created_at": pa.array(frame.t * 1_000_000, schema.POSTS.field("created_at").type),
        "text": frame.text,
        "lang": pa.array(LANGS).take(pa.array(frame.lang)),
        "kind": pa.array(KINDS).take(pa.array(frame.kind)),
        "repost_of": ref_of(REPOST),
        "reply_to": ref_of(REPLY),
        "quote_of": ref_of(QUOTE),
        "urls": frame.urls,
        "hashtags": frame.hashtags,
        "mentions": frame.mentions,
        "media": frame.media,
        "source": look.apps.take(pa.array(frame.source)),
        "place_name": pick(look.place_names, pidx, geo),
        "lat": pa.array(lat, from_pandas=True),
        "lon": pa.array(lon, from_pandas=True),
        "withheld_in": pa.nulls(n, pa.list_(pa.string())),
        "dataset": pa.repeat(pa.scalar("demo"), n),
        "raw": null_strings(n),
    }
    return pa.Table.from_arrays(
        [cols[f.name].cast(f.type) for f in schema.POSTS], schema=schema.POSTS
    )
