"""Twitter API v1.1 JSON, as collected in 2014: one tweet per line (JSONL), a JSON array, or
search API pages (``{"statuses": [...]}``).

Speed decides the design (the target is 100k tweets/s on two cores). The file is read in 8 MB
blocks of whole lines (around the page cache, see _direct). A compiled scanner
(_twitter_v1_scan.cpp, simdjson) turns a block into Arrow column buffers outside the GIL, so the
pipeline's validation and Parquet writing run beside it: about 6 CPU-µs a tweet for the whole
reader (docs/benchmarks.md). It vouches only for blocks it fully understands and gives any other
block back (a damaged line, a field of an unexpected type, a date not in Twitter's format, ...);
each 2 MB piece of that block is then scanned again, and a piece given back once more takes the
Python path: msgspec decodes its lines into typed structs that declare only the fields we use,
the columns are built one field at a time, and each bad record is explained. That path gives the
same posts and accounts as the scanner (tested), at about 14 CPU-µs a tweet. Without the compiled
module (no compiler or libsimdjson-dev at install) every piece takes the Python path.

What a tweet becomes:

- a retweet is a post of kind ``repost`` whose text is ``RT @author: <original full text>`` and
  whose URLs, hashtags and media are the original's (the retweet's own copies are cut at 140
  characters); its mentions are the original's author, then the original's mentions;
- the embedded original becomes a post of its own, as does a quoted tweet, once per file: later
  embedded copies are the same tweet again and are not repeated (their ``raw`` is null: the line
  that holds them, ``_record``, is the record);
- ``extended_tweet.full_text`` / ``full_text`` win over ``text``; expanded URLs, never t.co;
- ``source`` is reduced from its HTML anchor to the app name (old tweets say bare ``web``);
- coordinates are GeoJSON ``[lon, lat]`` (the deprecated ``geo`` field is ``[lat, lon]``);
- each ``user`` object becomes an account.

Stream notices mixed in with the tweets (``delete``, ``limit``, …) are skipped and counted.
Damaged lines (truncated JSON, invalid UTF-8, a field of the wrong type, an unreadable date) are
quarantined with the reason; the rest of the file is stored.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Literal

import msgspec
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..errors import InputError
from ._base import Chunk, Problem, Reader
from ._direct import DirectReader
from .table import _ahead

_Scanned = tuple[int, dict[str, tuple[object, ...]]]
"""Rows and column buffers of one table the compiled scanner gives."""
_ScanResult = tuple[_Scanned, _Scanned, _Scanned, list[tuple[int, bytes]]]

try:  # the compiled scanner (setup.py); without it every block takes the Python path
    from . import _twitter_v1_scan

    _SCAN: Callable[[memoryview | bytes, int], _ScanResult | None] | None = _twitter_v1_scan.scan
except ImportError:  # pragma: no cover - where libsimdjson-dev was absent at install
    _SCAN = None

__all__ = ["TwitterV1Reader", "describe_start", "strip_bom"]

_BLOCK = 8 << 20
"""Bytes read and scanned per step (about 3,600 tweets): the compiled scanner's fixed cost per
block (a few dozen Arrow calls) falls with larger blocks (6 % less reader time than 2 MB)."""
_PIECE = 2 << 20
"""Bytes per step of the Python path (about 900 tweets): its decoded structs stay in the CPU's
caches (13 % less time than 16 MB steps); a block the scanner gives back is cut into pieces this
size, each scanned again, so only the piece with the trouble takes the Python path."""
_PER_CHUNK = 2
"""Blocks merged into one chunk for the pipeline, whose per-chunk cost wants large chunks."""
_MAX_LINE = 64 << 20
"""A line longer than this is not a tweet; stop rather than buffer without bound."""
_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
_PROFILES = 200_000
"""Profiles held before they are handed on as accounts (bounds memory on huge files)."""
_RECENT = 2_000_000
"""Tweet ids remembered as Python strings (to skip embedded copies of tweets already given
before any work on them) until the set is cleared, which bounds its memory; older repeats are
still caught, after conversion, by the numpy record of every id given."""

# Keys of the stream messages the 2014 streaming API mixed in with tweets.
_NOTICES = frozenset(
    (
        "delete",
        "scrub_geo",
        "limit",
        "status_withheld",
        "user_withheld",
        "disconnect",
        "warning",
        "event",
        "friends",
        "control",
    )
)


# The fields we read; msgspec skips everything else without building it. Arrays are tuples:
# an empty one is Python's shared empty tuple, so the many empty entity lists cost no
# allocation and no garbage-collector work (a third of the reader's time with lists).
class _Hashtag(msgspec.Struct, gc=False):
    text: str | None = None


class _Url(msgspec.Struct, gc=False):
    url: str | None = None
    expanded_url: str | None = None


class _Mention(msgspec.Struct, gc=False):
    screen_name: str | None = None


class _Media(msgspec.Struct, gc=False):
    media_url_https: str | None = None
    media_url: str | None = None


class _Entities(msgspec.Struct, gc=False):
    hashtags: tuple[_Hashtag, ...] | None = None
    urls: tuple[_Url, ...] | None = None
    user_mentions: tuple[_Mention, ...] | None = None
    media: tuple[_Media, ...] | None = None


class _ExtendedEntities(msgspec.Struct, gc=False):
    media: tuple[_Media, ...] | None = None


class _Extended(msgspec.Struct, gc=False):
    full_text: str | None = None
    entities: _Entities | None = None
    extended_entities: _ExtendedEntities | None = None


class _User(msgspec.Struct, gc=False):
    id_str: str | None = None
    id: int | None = None
    screen_name: str | None = None
    name: str | None = None
    description: str | None = None
    location: str | None = None
    created_at: str | None = None
    followers_count: int | None = None
    friends_count: int | None = None
    statuses_count: int | None = None
    withheld_in_countries: tuple[str, ...] | None = None


class _Point(msgspec.Struct, gc=False):
    coordinates: tuple[float, ...] | None = None


class _Place(msgspec.Struct, gc=False):
    full_name: str | None = None


class _Status(msgspec.Struct, gc=False):
    id_str: str | None = None
    id: int | None = None
    created_at: str | None = None
    timestamp_ms: str | None = None
    text: str | None = None
    full_text: str | None = None
    extended_tweet: _Extended | None = None
    source: str | None = None
    lang: str | None = None
    in_reply_to_status_id_str: str | None = None
    in_reply_to_status_id: int | None = None
    quoted_status_id_str: str | None = None
    quoted_status_id: int | None = None
    user: _User | None = None
    entities: _Entities | None = None
    extended_entities: _ExtendedEntities | None = None
    coordinates: _Point | None = None
    geo: _Point | None = None
    place: _Place | None = None
    withheld_in_countries: tuple[str, ...] | None = None


class _Quoted(_Status):
    pass


class _Retweeted(_Status):
    quoted_status: _Quoted | None = None


class _Tweet(_Status):
    retweeted_status: _Retweeted | None = None
    quoted_status: _Quoted | None = None


_DECODER = msgspec.json.Decoder(_Tweet)
_ANCHOR = re.compile(r">([^<]*)<")
_USER_KEY = re.compile(rb'"user"\s*:\s*\{')


def _app(source: str | None) -> str | None:
    """'<a href="…" rel="nofollow">Twitter for Android</a>' -> 'Twitter for Android'."""
    name = source
    if source is not None and source.startswith("<"):
        m = _ANCHOR.search(source)
        name = m.group(1) if m else None
    if name is None:
        return None
    return html.unescape(name).strip() or None


_List = list[str | None] | None


def _content(t: _Status) -> tuple[str | None, _List, _List, _List, _List]:
    """Full text, expanded URLs, hashtags, mentions and media of ``t``.

    An empty list is None (five times cheaper for Arrow to convert; the pipeline reads it as
    empty). Hashtags and mentions keep their case here: the pipeline lower-cases every list the
    same way for all formats.
    """
    ext = t.extended_tweet
    if ext is None:
        text = t.full_text or t.text
        ent = t.entities
        extended = t.extended_entities
    else:
        text = ext.full_text or t.full_text or t.text
        ent = ext.entities or t.entities
        extended = ext.extended_entities or t.extended_entities
    if ent is None:
        return text, None, None, None, None
    u, h, m = ent.urls, ent.hashtags, ent.user_mentions
    # extended_entities lists every photo; entities.media only the first.
    found = (extended.media if extended is not None else None) or ent.media
    return (
        text,
        [x.expanded_url or x.url for x in u] if u else None,
        [x.text for x in h] if h else None,
        [x.screen_name for x in m] if m else None,
        [x.media_url_https or x.media_url for x in found] if found else None,
    )


def _sid(value: str | None, number: int | None) -> str | None:
    """``id_str``; the number only in the rare records that lack the string."""
    return value if value is not None else (str(number) if number is not None else None)


_Content = tuple[str | None, _List, _List, _List, _List, str | None, str | None]


def _content_of(t: _Status, rt: _Status | None) -> _Content:
    """Text, URLs, hashtags, mentions, media, ``repost_of`` and ``quote_of`` of a post."""
    if rt is None:
        text, urls, tags, names, media = _content(t)
        return (
            text,
            urls,
            tags,
            names,
            media,
            None,
            _sid(t.quoted_status_id_str, t.quoted_status_id),
        )
    # The retweet's own text and entities are cut at 140 characters; the original's are whole.
    rtext, urls, tags, names, media = _content(rt)
    author = rt.user.screen_name if rt.user is not None else None
    if author and rtext is not None:
        return (
            f"RT @{author}: {rtext}",
            urls,
            tags,
            [author, *names] if names else [author],
            media,
            _sid(rt.id_str, rt.id),
            None,
        )
    return t.full_text or t.text, urls, tags, names, media, _sid(rt.id_str, rt.id), None


def _point(t: _Status) -> tuple[float | None, float | None]:
    """(lat, lon): ``coordinates`` is GeoJSON [lon, lat]; the deprecated ``geo`` is [lat, lon]."""
    c = t.coordinates.coordinates if t.coordinates is not None else None
    if c is not None and len(c) == 2:
        return c[1], c[0]
    g = t.geo.coordinates if t.geo is not None else None
    if g is not None and len(g) == 2:
        return g[0], g[1]
    return None, None


_NOWHERE = (None, None)


def _columns(
    tweets: list[_Tweet] | list[_Status], retweets: list[_Status | None]
) -> dict[str, list[object]]:
    """Canonical columns of ``tweets``, built one column at a time: a comprehension per field
    costs a third of building a tuple per post and transposing."""
    content = [_content_of(t, rt) for t, rt in zip(tweets, retweets, strict=True)]
    text, urls, tags, names, media, repost_of, quote_of = (
        zip(*content, strict=True) if content else ((),) * 7
    )
    users = [t.user for t in tweets]
    where = [
        _point(t) if t.coordinates is not None or t.geo is not None else _NOWHERE for t in tweets
    ]
    return {
        # id_str is nearly always there: the number is looked at only when it is not.
        "post_id": [t.id_str or _sid(t.id_str, t.id) for t in tweets],
        "account_id": [
            (u.id_str or _sid(u.id_str, u.id)) if u is not None else None for u in users
        ],
        "account_name": [u.screen_name if u is not None else None for u in users],
        "_created": [t.created_at for t in tweets],
        "_timestamp_ms": [t.timestamp_ms for t in tweets],
        "text": list(text),
        "lang": [t.lang for t in tweets],
        "repost_of": list(repost_of),
        "reply_to": [
            t.in_reply_to_status_id_str
            or (str(t.in_reply_to_status_id) if t.in_reply_to_status_id is not None else None)
            for t in tweets
        ],
        "quote_of": list(quote_of),
        "urls": list(urls),
        "hashtags": list(tags),
        "mentions": list(names),
        "media": list(media),
        "source": [t.source for t in tweets],
        "place_name": [t.place.full_name if t.place is not None else None for t in tweets],
        "lat": [w[0] for w in where],
        "lon": [w[1] for w in where],
        "withheld_in": [t.withheld_in_countries for t in tweets],
    }


_STRINGS = pa.list_(pa.string())


@dataclass
class _Block:
    """Numbered lines of one block: ``lines`` is an Arrow view of ``data``."""

    numbers: np.ndarray
    offsets: np.ndarray
    data: bytes
    """The line bodies back to back (line ends removed); ``lines`` is an Arrow view of it."""
    lines: pa.Array
    problems: list[Problem]


@dataclass
class _Lines:
    """A block of a JSONL file as read: whole lines, the first one numbered ``first + 1``.

    ``data`` may be a view of the reader's buffer, valid until the next block is read.
    """

    data: bytes | memoryview
    first: int


_POST_ORDER = [
    *("post_id", "account_id", "account_name", "created_at", "text", "lang", "repost_of"),
    *("reply_to", "quote_of", "urls", "hashtags", "mentions", "media", "source", "place_name"),
    *("lat", "lon", "withheld_in", "raw", "_record"),
]
"""The Python path's columns, in its order: blocks of both paths are merged into one chunk."""
_SCANNED_TYPES = {
    "_record": pa.int64(),
    "number": pa.uint64(),
    "created_at": schema.POSTS.field("created_at").type,
    "lat": pa.float64(),
    "lon": pa.float64(),
    "followers": pa.int64(),
    "following": pa.int64(),
    "statuses": pa.int64(),
    **{n: _STRINGS for n in ("urls", "hashtags", "mentions", "media", "withheld_in")},
}


def _scanned_table(rows: int, buffers: dict[str, tuple[object, ...]]) -> pa.Table:
    return pa.table({name: _array(name, spec, rows) for name, spec in buffers.items()})


def _buffer(data: object) -> pa.Buffer | None:
    return None if data is None else pa.py_buffer(data)


def _array(name: str, spec: tuple[object, ...], rows: int) -> pa.Array:
    """A column of the compiled scanner: its buffers, wrapped without a copy."""
    kind = _SCANNED_TYPES.get(name, pa.string())
    if kind == _STRINGS:
        validity, offsets, items = spec
        assert isinstance(items, tuple) and isinstance(items[1], bytes)
        child = _array("", items, len(items[1]) // 4 - 1)
        buffers = [_buffer(validity), _buffer(offsets)]
        return pa.Array.from_buffers(kind, rows, buffers, children=[child])
    return pa.Array.from_buffers(kind, rows, [_buffer(b) for b in spec])


class _SeenIds:
    """Numeric post ids already emitted in this file, in sorted numpy runs (8 bytes an id).

    A Python set of ten million ids would take ~600 MB; this takes 80 MB and answers a block's
    questions with a few vectorised searches.
    """

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []

    def contains(self, ids: np.ndarray) -> np.ndarray:
        found = np.zeros(len(ids), dtype=bool)
        for run in self.runs:
            pos = np.searchsorted(run, ids)
            pos[pos == len(run)] = 0
            found |= run[pos] == ids
        return found

    def add(self, ids: np.ndarray) -> None:
        if not len(ids):
            return
        self.runs.append(np.sort(ids))
        # Merge runs of similar size, so there are only O(log n) of them.
        while len(self.runs) > 1 and len(self.runs[-1]) * 2 >= len(self.runs[-2]):
            last = self.runs.pop()
            self.runs[-1] = np.sort(np.concatenate([self.runs[-1], last]))


def _numeric(ids: pa.ChunkedArray) -> np.ndarray:
    """Ids as uint64, 0 where an id is not a plain number (those are never de-duplicated)."""
    plain = pc.and_(pc.match_substring_regex(ids, r"^[0-9]{1,19}$"), pc.is_valid(ids))
    numbers = pc.cast(pc.if_else(plain, ids, "0"), pa.uint64())
    return np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.uint64)


class _Converter:
    """Turns blocks of lines into chunks; remembers what the file has already given."""

    def __init__(self, compiled: bool = True) -> None:
        self.seen = _SeenIds()
        self.recent: set[str | None] = set()
        self.profiles = _Profiles()
        self.scanner = _SCAN if compiled else None
        self.compiled_blocks = 0
        self.python_blocks = 0

    def convert(self, block: _Block | _Lines) -> Chunk:
        """The posts, problems and (now and then) accounts of one block."""
        if isinstance(block, _Lines):
            chunk = self._scan(block)
            if chunk is not None:
                return chunk
            if len(block.data) > _PIECE:
                pieces = [self._scan(p) or self._decoded(_lines_of(p)) for p in _pieces(block)]
                return _merge(pieces)
            block = _lines_of(block)
        return self._decoded(block)

    def _scan(self, block: _Lines) -> Chunk | None:
        """The compiled path's chunk of ``block``; None when it gives the block back."""
        scanned = self.scanner(block.data, block.first) if self.scanner is not None else None
        if scanned is None:
            return None
        self.compiled_blocks += 1
        return self._scanned(*scanned)

    def _decoded(self, block: _Block) -> Chunk:
        """The Python path: msgspec structs, then columns; it also explains every bad record."""
        self.python_blocks += 1
        tweets: list[_Tweet] = []
        records: list[int] = []
        raw_of: list[int] = []
        embedded: list[_Status] = []
        embedded_records: list[int] = []
        problems = block.problems
        skipped = 0
        data = memoryview(block.data)
        offsets = block.offsets.tolist()
        decode = _DECODER.decode
        recent = self.recent
        for i, n in enumerate(block.numbers.tolist()):
            a, b = offsets[i], offsets[i + 1]
            if a == b:
                continue  # a blank line
            try:
                t = decode(data[a:b])
            except msgspec.ValidationError as exc:
                problems.append(_type_problem(n, str(exc), block.lines[i].as_py()))
                continue
            except msgspec.DecodeError:
                if block.data[a:b].strip():
                    problems.append(_json_problem(n, block.lines[i].as_py()))
                continue
            if t.user is None and t.id_str is None and t.id is None:
                problem = _not_tweet(n, block.data[a:b])
                if problem is None:
                    skipped += 1
                else:
                    problems.append(problem)
                continue
            tweets.append(t)
            records.append(n)
            raw_of.append(i)
            recent.add(t.id_str)  # its later embedded copies are not new
            rt = t.retweeted_status
            if rt is not None:
                self._embed(rt, n, embedded, embedded_records)
                if rt.quoted_status is not None:
                    self._embed(rt.quoted_status, n, embedded, embedded_records)
            if t.quoted_status is not None:
                self._embed(t.quoted_status, n, embedded, embedded_records)
        if len(self.recent) > _RECENT:
            self.recent.clear()
        top = self._table(
            _columns(tweets, [t.retweeted_status for t in tweets]), records, raw_of, block.lines
        )
        emb = self._table(
            _columns(embedded, [None] * len(embedded)), embedded_records, None, block.lines
        )
        posts = _dates(self._new(top, emb), problems)
        accounts = self.profiles.add(_profile_rows(tweets))
        problems.sort(key=lambda p: p.record)  # found in passes; reported in file order
        return Chunk(posts=posts, accounts=accounts, problems=problems, skipped=skipped)

    def _scanned(
        self,
        tweets: _Scanned,
        embedded: _Scanned,
        profiles: _Scanned,
        others: list[tuple[int, bytes]],
    ) -> Chunk:
        """The compiled path's columns: the same posts and profiles as the Python path."""
        top = _scanned_table(*tweets)
        emb = _scanned_table(*embedded)
        top_ids = top.column("number").to_numpy()
        ids = emb.column("number").to_numpy()  # never 0: the scanner vouches for them
        first = np.zeros(len(ids), dtype=bool)
        first[np.unique(ids, return_index=True)[1]] = True  # an original's first copy here
        new = first & ~(self.seen.contains(ids) | np.isin(ids, top_ids))
        kept = np.concatenate([top_ids, ids[new]])
        self.seen.add(kept[kept != 0])
        emb = emb.filter(pa.array(new))
        emb = emb.append_column("raw", pa.nulls(emb.num_rows, pa.string()))
        posts = pa.concat_tables([top.select(_POST_ORDER), emb.select(_POST_ORDER)])
        at = posts.schema.get_field_index("source")
        posts = posts.set_column(at, "source", self._apps(posts.column("source").combine_chunks()))
        accounts = self.profiles.add(_scanned_table(*profiles).select(_PROFILE_NAMES))
        problems: list[Problem] = []
        skipped = 0
        for n, line in others:
            problem = _not_tweet(n, line)
            if problem is None:
                skipped += 1
            else:
                problems.append(problem)
        return Chunk(posts=posts, accounts=accounts, problems=problems, skipped=skipped)

    def profiles_chunk(self) -> pa.Table:
        """The profiles gathered so far, as accounts; the gathering starts again."""
        return self.profiles.flush()

    def _embed(self, e: _Status, n: int, embedded: list[_Status], records: list[int]) -> None:
        """Add an embedded tweet, unless it already came: an original is the same tweet each
        time it is retweeted, and the popular ones recur thousands of times in a file."""
        if e.user is None or e.id_str in self.recent:
            return
        if e.id_str is not None:
            self.recent.add(e.id_str)
        embedded.append(e)
        records.append(n)

    def _table(
        self,
        columns: dict[str, list[object]],
        records: list[int],
        raw_of: list[int] | None,
        lines: pa.Array,
    ) -> pa.Table:
        arrays = {
            name: pa.array(col, _TYPES.get(name, pa.string())) for name, col in columns.items()
        }
        arrays["source"] = self._apps(arrays["source"])
        if raw_of is None:
            arrays["raw"] = pa.nulls(len(records), pa.string())
        elif len(raw_of) == len(lines) and raw_of == list(range(len(lines))):
            arrays["raw"] = lines  # every line gave one post, in order: no copy
        else:
            arrays["raw"] = lines.take(pa.array(raw_of, pa.int64()))
        arrays["_record"] = pa.array(records, pa.int64())
        return pa.table(arrays)

    def _apps(self, sources: pa.Array) -> pa.Array:
        """App names of a column of ``source`` anchors, parsing each distinct anchor once."""
        encoded = sources.dictionary_encode()
        names = [_app(s) for s in encoded.dictionary.to_pylist()]
        return pa.array(names, pa.string()).take(encoded.indices)

    def _new(self, top: pa.Table, emb: pa.Table) -> pa.Table:
        """Posts of the block: its tweets, and the embedded ones the file has not given yet
        (as tweets of their own, or embedded in an earlier block `recent` has forgotten)."""
        ids = _numeric(emb.column("post_id"))
        top_ids = _numeric(top.column("post_id"))
        new = (ids == 0) | ~(self.seen.contains(ids) | np.isin(ids, top_ids))
        kept = np.concatenate([top_ids, ids[new]])
        self.seen.add(kept[kept != 0])
        return pa.concat_tables([top, emb.filter(pa.array(new))])


_TYPES = {
    "lat": pa.float64(),
    "lon": pa.float64(),
    "urls": _STRINGS,
    "hashtags": _STRINGS,
    "mentions": _STRINGS,
    "media": _STRINGS,
    "withheld_in": _STRINGS,
}


_TS = schema.POSTS.field("created_at").type


def _dates(table: pa.Table, problems: list[Problem]) -> pa.Table:
    """``created_at`` parsed for the whole block at once. A date that is there but unreadable
    is the record's fault (quarantined); a missing one is left to the pipeline's check."""
    text = table.column("_created")
    created = pc.strptime(text, format=_TIME_FORMAT, unit="us", error_is_null=True).cast(_TS)
    if created.null_count:
        created, bad = _fallback_dates(table, created, problems)
        if bad.any():
            keep = pa.array(~bad)
            table, created = table.filter(keep), created.filter(keep)
    at = table.schema.get_field_index("_created")
    table = table.set_column(at, pa.field("created_at", _TS), created)
    return table.drop_columns(["_timestamp_ms"])


def _fallback_dates(
    table: pa.Table, created: pa.ChunkedArray, problems: list[Problem]
) -> tuple[pa.Array, np.ndarray]:
    """Rows Arrow could not read: ISO 8601 (some tools rewrite dates), else ``timestamp_ms``."""
    values = created.to_pylist()
    texts = table.column("_created").to_pylist()
    millis = table.column("_timestamp_ms").to_pylist()
    bad = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        if value is not None:
            continue
        if texts[i] is not None:
            try:
                parsed = datetime.fromisoformat(texts[i])
                values[i] = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            except ValueError:
                bad[i] = True
                record = table.column("_record")[i].as_py()
                raw = table.column("raw")[i].as_py()
                reason = f"unparseable date {texts[i][:60]!r}"
                problems.append(Problem(record, "created_at", reason, raw))
        elif millis[i] is not None and millis[i].isdigit():
            values[i] = datetime.fromtimestamp(int(millis[i]) / 1000, tz=UTC)
    return pa.array(values, _TS), bad


_PROFILE_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("account_name", pa.string()),
        ("display_name", pa.string()),
        ("description", pa.string()),
        ("location", pa.string()),
        ("created", pa.string()),
        ("followers", pa.int64()),
        ("following", pa.int64()),
        ("statuses", pa.int64()),
        ("withheld_in", _STRINGS),
    ]
)
_PROFILE_NAMES = _PROFILE_SCHEMA.names


def _profile_rows(tweets: list[_Tweet]) -> pa.Table:
    """The profile each status of ``tweets`` gives its author, in line order: the tweet, its
    retweeted original, that original's quoted tweet, its own quoted tweet."""
    users: list[_User] = []
    for t in tweets:
        rt = t.retweeted_status
        for status in (t, rt, rt.quoted_status if rt is not None else None, t.quoted_status):
            if status is not None and status.user is not None and status.user.id_str:
                users.append(status.user)
    columns = [
        [u.id_str for u in users],
        [u.screen_name for u in users],
        [u.name for u in users],
        [u.description or None for u in users],
        [u.location or None for u in users],
        [u.created_at for u in users],
        [u.followers_count for u in users],
        [u.friends_count for u in users],
        [u.statuses_count for u in users],
        [u.withheld_in_countries for u in users],
    ]
    return pa.table(columns, schema=_PROFILE_SCHEMA)


class _Profiles:
    """The latest profile of each account seen in the file, handed on as accounts once per
    file, or whenever ``_PROFILES`` accounts are held (which bounds memory on huge files):
    per block, accounts would cost as much to store as the posts."""

    def __init__(self) -> None:
        self.parts: list[pa.Table] = []
        self.rows = 0
        self.next = _PROFILES

    def add(self, rows: pa.Table) -> pa.Table | None:
        """Gather ``rows``; the accounts to hand on now, if it is time."""
        self.parts.append(rows)
        self.rows += rows.num_rows
        if self.rows < self.next:
            return None
        latest = _latest(pa.concat_tables(self.parts))
        if latest.num_rows >= _PROFILES:
            self.parts, self.rows = [], 0
            return _accounts(latest)
        self.parts, self.rows = [latest], latest.num_rows
        self.next = latest.num_rows + _PROFILES
        return None

    def flush(self) -> pa.Table:
        """Every profile held, as accounts; the gathering starts again."""
        held = pa.concat_tables(self.parts) if self.parts else _PROFILE_SCHEMA.empty_table()
        self.parts, self.rows, self.next = [], 0, _PROFILES
        return _accounts(_latest(held))


def _latest(profiles: pa.Table) -> pa.Table:
    """The last row of each account, in the order of those rows."""
    if profiles.num_rows == 0:
        return profiles
    ids = profiles.column("account_id").combine_chunks().dictionary_encode()
    codes = np.asarray(ids.indices)
    last = len(codes) - 1 - np.unique(codes[::-1], return_index=True)[1]
    return profiles.take(pa.array(np.sort(last)))


def _accounts(profiles: pa.Table) -> pa.Table:
    created = pc.strptime(
        profiles.column("created"), format=_TIME_FORMAT, unit="us", error_is_null=True
    )
    at = profiles.schema.get_field_index("created")
    return profiles.set_column(at, "created_at", created)


def _json_problem(n: int, line: str | None, what: str = "tweet") -> Problem:
    stripped = (line or "").rstrip()
    if stripped.startswith("{") and not stripped.endswith("}"):
        return Problem(n, None, f"truncated JSON: the line ends before the {what} does", line)
    return Problem(n, None, "invalid JSON", line)


_PATH = re.compile(r"at `\$\.?([^`]*)`")


def _type_problem(n: int, message: str, line: str | None) -> Problem:
    """A field of the wrong type, named by its path ('user.followers_count')."""
    m = _PATH.search(message)
    where = m.group(1) if m else None
    reason = message.split(" - at ")[0]
    return Problem(n, where or None, f"unexpected value: {reason}", line)


def _not_tweet(n: int, line: bytes) -> Problem | None:
    """Why line ``n`` holds no tweet; None for stream notices, which are skipped."""
    obj = orjson.loads(line)
    text = line.decode("utf-8", "replace")
    if not isinstance(obj, dict):
        return Problem(n, None, f"not a tweet but a JSON {type(obj).__name__}", text)
    keys = list(obj)
    if keys and keys[0] in _NOTICES:
        return None
    shown = ", ".join(keys[:8])
    return Problem(n, "user", f"not a tweet: no 'user' or 'id_str' (keys: {shown})", text)


def _split(block: bytes, first: int) -> tuple[_Block, int]:
    """The lines of ``block`` (blank ones empty) with their numbers; and the line count.

    The line bodies are copied once, without their line ends, into the buffer the Arrow
    strings (each post's ``raw``) point into: a few milliseconds for 16 MB.
    """
    if b"\r" in block:  # (memchr: a two-byte `in` is ten times slower)
        block = block.replace(b"\r\n", b"\n")  # CRLF: the CR belongs to the line end
    raw = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    if len(raw) and raw[-1] != 10:
        ends = np.append(ends, len(raw))
    lengths = np.diff(ends, prepend=-1) - 1
    offsets = np.zeros(len(ends) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = block.replace(b"\n", b"")
    numbers = np.arange(first + 1, first + 1 + len(ends), dtype=np.int64)
    lines = pa.StringArray.from_buffers(
        len(ends), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)
    )
    try:
        lines.validate(full=True)
    except pa.ArrowInvalid:
        return _without_invalid_utf8(data, offsets, numbers), len(ends)
    return _Block(numbers, offsets, data, lines, []), len(ends)


def _without_invalid_utf8(data: bytes, offsets: np.ndarray, numbers: np.ndarray) -> _Block:
    items: list[bytes] = []
    kept: list[int] = []
    problems: list[Problem] = []
    bounds = offsets.tolist()
    for i, n in enumerate(numbers.tolist()):
        line = data[bounds[i] : bounds[i + 1]]
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = line.decode("utf-8", errors="replace")
            problems.append(Problem(n, None, f"invalid UTF-8 at byte {exc.start + 1}", text))
            continue
        items.append(line)
        kept.append(n)
    return _block_of(items, kept, problems)


def _block_of(items: list[bytes], numbers: list[int], problems: list[Problem]) -> _Block:
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in items], out=offsets[1:])
    data = b"".join(items)
    lines = pa.StringArray.from_buffers(
        len(items), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)
    )
    return _Block(np.array(numbers, dtype=np.int64), offsets, data, lines, problems)


def _line_blocks(path: Path) -> Iterator[_Lines]:
    """A JSONL file as blocks of whole lines.

    One buffer is read into again and again (fresh 16 MB buffers cost more in page faults than
    the copying); the end of a block's last, unfinished line moves to the front for the next.
    The file is read around the page cache (see _direct): a collection is read once.
    """
    line_no = 0
    buf = bytearray(_BLOCK)
    held = 0  # bytes at the front of `buf` carried over from the previous read
    with DirectReader(path) as fh:
        while True:
            if held == len(buf):
                if len(buf) > _MAX_LINE:
                    raise InputError(
                        str(path),
                        f"a line longer than {_MAX_LINE >> 20} MiB; not JSON lines",
                        line=line_no + 1,
                    )
                buf.extend(bytes(len(buf)))  # a line longer than the buffer: grow it
            got = fh.readinto(memoryview(buf)[held:])
            end = held + got
            if got == 0:
                if end:
                    yield _Lines(bytes(memoryview(buf)[:end]), line_no)
                return
            cut = buf.rfind(b"\n", 0, end) + 1
            if cut == 0:
                held = end
                continue
            with memoryview(buf)[:cut] as view:  # no copy: converted before we read on
                yield _Lines(view, line_no)
            # numpy counts 2.5x faster than bytes.count (5 % of the ingest's CPU before)
            line_no += int(np.count_nonzero(np.frombuffer(buf, np.uint8, cut) == 10))
            buf[: end - cut] = buf[cut:end]  # a copy first: the two may overlap
            held = end - cut


def _lines_of(block: _Lines) -> _Block:
    return _split(bytes(block.data), block.first)[0]


def _pieces(block: _Lines) -> Iterator[_Lines]:
    """``block`` cut into whole lines of about ``_PIECE`` bytes, numbered on."""
    data = bytes(block.data)
    first, start = block.first, 0
    while start < len(data):
        cut = data.find(b"\n", start + _PIECE) + 1 or len(data)
        yield _Lines(data[start:cut], first)
        first += data.count(b"\n", start, cut)
        start = cut


def _array_blocks(path: Path) -> Iterator[_Block]:
    """Elements of a JSON array file, numbered by the line each starts on.

    ``raw_decode`` (C speed) finds where each element ends; the element's text then goes the way
    of a JSONL line, so both layouts share one conversion. Bytes that are not UTF-8 survive
    decoding as surrogates, so that the element holding them can be quarantined.
    """
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    numbers: list[int] = []
    items: list[bytes] = []
    problems: list[Problem] = []
    with path.open("rb") as fh:
        text, eof = "", False

        def more() -> None:
            nonlocal text, eof
            data = fh.read(_BLOCK)
            eof = not data
            text += utf8.decode(data, final=eof)

        more()
        text = text.lstrip("\ufeff")
        pos = text.index("[") + 1
        line = 1 + text.count("\n", 0, pos)
        while True:
            while True:  # skip the separators between elements, reading on as needed
                start = pos
                while pos < len(text) and text[pos] in " \t\r\n,":
                    pos += 1
                line += text.count("\n", start, pos)
                if pos < len(text) or eof:
                    break
                text, pos = text[pos:], 0
                more()
            if pos >= len(text):
                problems.append(Problem(line, None, "truncated JSON: the array is not closed"))
                break
            if text[pos] == "]":
                break
            try:
                _, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                if not eof:
                    text, pos = text[pos:], 0
                    more()
                    continue
                reason = (
                    "truncated JSON: the file ends inside this element"
                    if exc.pos >= len(text)
                    else f"invalid JSON ({exc.msg}); the rest of the array cannot be read"
                )
                snippet = text[pos : pos + 4000].encode("utf-8", "replace").decode("utf-8")
                problems.append(Problem(line, None, reason, snippet))
                break
            element = text[pos:end]
            try:
                items.append(element.encode("utf-8"))
                numbers.append(line)
            except UnicodeEncodeError:
                fixed = element.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                problems.append(Problem(line, None, "invalid UTF-8", fixed))
            line += text.count("\n", pos, end)
            pos = end
            if len(items) >= 20_000:
                yield _block_of(items, numbers, problems)
                numbers, items, problems = [], [], []
    yield _block_of(items, numbers, problems)


def _page_blocks(path: Path) -> Iterator[_Block]:
    """Search API pages (``{"statuses": [...], "search_metadata": ...}``), one per line or
    pretty-printed, each tweet numbered by the line its page starts on.

    A page's tweets are re-encoded one by one (compact JSON) to become their ``raw``: search
    pages are saved a hundred tweets at a time, so this path is never the bulk of a collection.
    One page a line is read line by line, so that a damaged line costs that page only; a
    pretty-printed file (one saved response, or a few) is read whole.
    """
    with path.open("rb") as fh:
        first = strip_bom(fh.readline(_MAX_LINE))
    try:
        one_per_line = _is_page(orjson.loads(first))
    except orjson.JSONDecodeError:
        one_per_line = False
    yield from (_page_lines if one_per_line else _page_document)(path)


class _Pages:
    """The tweets of pages read so far, in blocks of about 20k."""

    def __init__(self) -> None:
        self.numbers: list[int] = []
        self.items: list[bytes] = []
        self.problems: list[Problem] = []

    def add(self, n: int, page: object, text: str) -> None:
        statuses = page.get("statuses") if isinstance(page, dict) else None
        if not isinstance(statuses, list):
            keys = ", ".join(list(page)[:8]) if isinstance(page, dict) else type(page).__name__
            reason = f"not a search API page (keys: {keys})"
            self.problems.append(Problem(n, "statuses", reason, text[:4000]))
            return
        for status in statuses:
            try:
                self.items.append(orjson.dumps(status))
                self.numbers.append(n)
            except (TypeError, orjson.JSONEncodeError):  # a lone surrogate: bytes not UTF-8
                shown = json.dumps(status, ensure_ascii=True)[:4000]
                self.problems.append(Problem(n, None, "invalid UTF-8", shown))

    def block(self) -> _Block:
        block = _block_of(self.items, self.numbers, self.problems)
        self.numbers, self.items, self.problems = [], [], []
        return block


def _page_lines(path: Path) -> Iterator[_Block]:
    pages = _Pages()
    with path.open("rb") as fh:
        for n, line in enumerate(fh, start=1):
            line = strip_bom(line) if n == 1 else line
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                pages.problems.append(
                    Problem(n, None, f"invalid UTF-8 at byte {exc.start + 1}", text)
                )
                continue
            try:
                pages.add(n, orjson.loads(line), text)
            except orjson.JSONDecodeError:
                pages.problems.append(_json_problem(n, text, "page"))
            if len(pages.items) >= 20_000:
                yield pages.block()
    yield pages.block()


def _page_document(path: Path) -> Iterator[_Block]:
    if path.stat().st_size > _MAX_LINE:
        raise InputError(
            str(path),
            f"a pretty-printed search page file over {_MAX_LINE >> 20} MiB; "
            "write the pages one a line (JSONL)",
        )
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    decoder = json.JSONDecoder()
    pages = _Pages()
    pos, line = 0, 1
    while True:
        start = pos
        while pos < len(text) and text[pos] in "\ufeff \t\r\n":
            pos += 1
        line += text.count("\n", start, pos)
        if pos >= len(text):
            break
        snippet = text[pos : pos + 4000].encode("utf-8", "replace").decode("utf-8")
        try:
            page, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            reason = (
                "truncated JSON: the file ends inside this page"
                if exc.pos >= len(text)
                else f"invalid JSON ({exc.msg}); the rest of the file cannot be read"
            )
            pages.problems.append(Problem(line, None, reason, snippet))
            break
        pages.add(line, page, snippet)
        line += text.count("\n", pos, end)
        pos = end
    yield pages.block()


_PAGE_START = re.compile(rb'\{\s*"(statuses|search_metadata)"\s*:')


def _is_page(obj: object) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("statuses"), list)


class TwitterV1Reader(Reader):
    """Twitter API v1.1 tweets: JSON lines, a JSON array of tweets, or search API pages."""

    name: ClassVar[str] = "twitter-v1"
    label: ClassVar[str] = "Twitter API v1.1 JSON"
    platform: ClassVar[str | None] = "twitter"
    numbering: ClassVar[Literal["line", "record"]] = "line"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        return _verdict(head) is None

    def read(self) -> Iterator[Chunk]:
        with self.path.open("rb") as fh:
            head = fh.read(1 << 16)
        problem = _verdict(head)
        if problem is not None:
            line, field_name, reason = problem
            raise InputError(str(self.path), reason, line=line, field=field_name, hint=_HINT)
        start = strip_bom(head).lstrip()
        blocks: Iterator[_Block | _Lines]
        if start.startswith(b"["):
            blocks = _array_blocks(self.path)
        elif _PAGE_START.match(start):
            blocks = _page_blocks(self.path)
        else:
            blocks = _line_blocks(self.path)
        converter = _Converter()

        def chunks() -> Generator[Chunk, None, None]:
            done: list[Chunk] = []
            for b in blocks:
                done.append(converter.convert(b))
                if len(done) == _PER_CHUNK:
                    yield _merge(done)
                    done = []
            done.append(Chunk(accounts=converter.profiles_chunk()))
            yield _merge(done)

        yield from _ahead(chunks())


_HINT = "--format twitter-v1 reads Twitter API v1.1 tweets; try --format auto"


def _merge(chunks: list[Chunk]) -> Chunk:
    posts = [c.posts for c in chunks if c.posts is not None]
    accounts = [c.accounts for c in chunks if c.accounts is not None]
    return Chunk(
        posts=pa.concat_tables(posts) if posts else None,
        accounts=pa.concat_tables(accounts) if accounts else None,
        problems=[p for c in chunks for p in c.problems],
        skipped=sum(c.skipped for c in chunks),
    )


def _is_tweet(obj: object) -> bool:
    return isinstance(obj, dict) and "user" in obj and ("id_str" in obj or "id" in obj)


def _is_notice(obj: object) -> bool:
    return isinstance(obj, dict) and len(obj) > 0 and next(iter(obj)) in _NOTICES


def _verdict(head: bytes) -> tuple[int | None, str | None, str] | None:
    """None when ``head`` starts a v1.1 file; else (line, field, reason) saying why not."""
    stripped = strip_bom(head).lstrip()
    if not stripped:
        return (None, None, "only blank lines; nothing to ingest")
    if stripped.startswith(b"["):
        # A JSON array of tweets: judge by the first element's keys, which fit in the head.
        if b'"user"' in stripped and (b'"id_str"' in stripped or b'"created_at"' in stripped):
            return None
        return (1, "user", "a JSON array, but not of Twitter API v1.1 tweets (no 'user' object)")
    if not stripped.startswith(b"{"):
        return (1, None, f"not JSON: {describe_start(stripped)}")
    if _PAGE_START.match(stripped):
        return None  # search API pages; one that is not (no statuses) is quarantined
    lines = strip_bom(head).split(b"\n")
    if len(head) >= 1 << 16:
        lines = lines[:-1]  # the last line may be cut short by the head
    for i, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # a damaged line is that record's problem, not the file's
        if _is_tweet(obj) or _is_page(obj):
            return None
        if not _is_notice(obj):
            return (i, "user", _not_a_tweet(obj))
    # No complete line decided it: a first line longer than the head (a search page among
    # them, pretty-printed or long), or only notices.
    if _USER_KEY.search(stripped) and b'"id_str"' in stripped:
        return None
    return (1, None, "no Twitter API v1.1 tweet in the first 64 KiB")


def _not_a_tweet(obj: object) -> str:
    if not isinstance(obj, dict):
        return f"not a Twitter API v1.1 tweet but a JSON {type(obj).__name__}"
    keys = ", ".join(list(obj)[:8])
    if "data" in obj or "author_id" in obj:
        return f"Twitter API v2 data, not v1.1 (keys: {keys}); use --format twitter-v2"
    return f"not a Twitter API v1.1 tweet: no 'user' object (keys: {keys})"


def strip_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def describe_start(data: bytes) -> str:
    """A short, safe description of how a file starts, for messages."""
    first = data.split(b"\n", 1)[0][:60].decode("utf-8", "replace")
    shown = "".join(c if c.isprintable() else "?" for c in first)
    if b"," in data.split(b"\n", 1)[0]:
        return f"the file starts like a CSV ({shown!r})"
    return f"the file starts with {shown!r}"
