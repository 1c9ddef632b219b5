"""Generic tables: CSV and Parquet whose columns are the canonical fields, or mapped to them.

Most collections that are not raw API output arrive as a table someone exported: a Kaggle CSV, a
pandas dump, a research group's Parquet. Positional parsers break on them (an extra index column,
a reordered export), so columns are matched by *name*: a column called ``created_at`` is the
canonical ``created_at``, and ``--map created_at=time`` says which column holds it otherwise.

What is checked, and where it goes:

- a required column (``account_id``, ``created_at``) that is neither present nor mapped stops the
  ingest before anything is read, naming the column, the ``--map`` to use and the file's columns;
- a value that cannot be read as its field's type (a date nobody can parse, a latitude that is not
  a number, a negative follower count, a ``kind`` that is not post/repost/reply/quote) sends that
  row to quarantine with the field, the column and the value; the rest of the file is stored;
- a row with invalid UTF-8 bytes, or with more or fewer cells than the header, is quarantined too.

Speed comes from never touching a row in Python on the common path: the file is cut into large
blocks at record boundaries, each block is parsed by Arrow's CSV parser, every conversion
(timestamps, lists, numbers, the ``raw`` JSON of unknown columns) is one DuckDB statement over the
block, and text and ids go to the pipeline untouched. All of it runs in a worker thread, one block
ahead of the pipeline's validation and Parquet writing, so that both cores work. Only a block that
Arrow refuses (bad bytes, a ragged row, blank lines that would throw the line numbers off) is
re-read with the ``csv`` module, to find exactly which rows are at fault.
"""

from __future__ import annotations

import csv
import io
import json
import queue
import threading
import zoneinfo
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import schema
from ..errors import InputError
from ._base import Chunk, Problem, Reader, ReadOptions

__all__ = ["ACCOUNT_FIELDS", "FIELDS", "CsvReader", "ParquetReader", "TableReader"]

ACCOUNT_FIELDS = (
    "display_name",
    "description",
    "location",
    "followers",
    "following",
    "statuses",
    "account_created_at",
)
"""Profile fields a table may carry beside each post; with any of them, accounts are written."""

FIELDS = (*(n for n in schema.POSTS.names if n != "dataset"), *ACCOUNT_FIELDS)
"""Every field a table column can be mapped to."""

_REQUIRED = ("account_id", "created_at")
_LISTS = ("urls", "hashtags", "mentions", "media", "withheld_in")
_TIMES = ("created_at", "account_created_at")
_COUNTS = ("followers", "following", "statuses")
_DEGREES = {"lat": 90, "lon": 180}

_BLOCK = 32 << 20
"""Bytes of CSV parsed at once: large enough for Arrow's threads to pay off, small enough that a
block and its converted forms stay in the low hundreds of MB."""
_MAX_CARRY = 2 * _BLOCK
"""Bytes without a record boundary after which the quotes are taken to be unbalanced."""
_MAX_BACKTRACK = 10_000
"""Newlines tried, from the end of a block back, for one where the quotes are balanced: a quoted
cell with more lines than this is not a post."""
_BATCH = 250_000
"""Rows per Parquet batch."""

# Naive and zoned formats tried after ISO 8601 and epoch numbers, in this order. Month-first is
# the US/Excel habit of the exports seen so far (Fifth Tribe's ``1/6/2015 21:07``).
_NAIVE_FORMATS = (
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d %H.%M.%S",
)
_ZONED_FORMATS = (
    "%a %b %d %H:%M:%S %z %Y",  # Twitter API v1.1 created_at
    "%a, %d %b %Y %H:%M:%S %z",  # RFC 2822 (mail, RSS)
    "%Y-%m-%d %H:%M:%S %z",
)

_KINDS = {
    "post": "post",
    "original": "post",
    "tweet": "post",
    "status": "post",
    "repost": "repost",
    "retweet": "repost",
    "retweeted": "repost",
    "rt": "repost",
    "r": "repost",
    "share": "repost",
    "forward": "repost",
    "reply": "reply",
    "replied_to": "reply",
    "quote": "quote",
    "quoted": "quote",
    "q": "quote",
}
"""Spellings of post kinds in the wild (IRA's ``post_type`` R/Q, twarc's ``retweeted``...)."""

_LANGUAGES = {
    "afrikaans": "af", "albanian": "sq", "amharic": "am", "arabic": "ar", "armenian": "hy",
    "azerbaijani": "az", "basque": "eu", "belarusian": "be", "bengali": "bn", "bosnian": "bs",
    "bulgarian": "bg", "burmese": "my", "catalan": "ca", "chinese": "zh", "croatian": "hr",
    "czech": "cs", "danish": "da", "dutch": "nl", "english": "en", "estonian": "et",
    "farsi": "fa", "farsi (persian)": "fa", "persian": "fa", "finnish": "fi", "french": "fr",
    "georgian": "ka", "german": "de", "greek": "el", "gujarati": "gu", "haitian": "ht",
    "hausa": "ha", "hebrew": "he", "hindi": "hi", "hungarian": "hu", "icelandic": "is",
    "indonesian": "id", "irish": "ga", "italian": "it", "japanese": "ja", "kannada": "kn",
    "kazakh": "kk", "khmer": "km", "korean": "ko", "kurdish": "ku", "kyrgyz": "ky", "lao": "lo",
    "latvian": "lv", "lithuanian": "lt", "macedonian": "mk", "malay": "ms", "malayalam": "ml",
    "maltese": "mt", "marathi": "mr", "mongolian": "mn", "nepali": "ne", "norwegian": "no",
    "pashto": "ps", "pushto": "ps", "polish": "pl", "portuguese": "pt", "punjabi": "pa",
    "romanian": "ro", "russian": "ru", "serbian": "sr", "sindhi": "sd", "sinhala": "si",
    "slovak": "sk", "slovenian": "sl", "somali": "so", "spanish": "es", "swahili": "sw",
    "swedish": "sv", "tagalog": "tl", "tagalog (filipino)": "tl", "filipino": "tl",
    "tajik": "tg", "tamil": "ta", "telugu": "te", "thai": "th", "tibetan": "bo",
    "turkish": "tr", "turkmen": "tk", "ukrainian": "uk", "urdu": "ur", "uyghur": "ug",
    "uzbek": "uz", "vietnamese": "vi", "welsh": "cy", "yiddish": "yi", "yoruba": "yo",
    "language undefined": "und", "undefined": "und", "unknown": "und",
}  # fmt: skip
"""Language names as exports spell them (IRA, CrowdTangle) -> ISO 639-1 codes; others kept."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class _Source:
    """A file column feeding a canonical field."""

    column: str
    type: pa.DataType


def _resolve(
    file: str,
    columns: Sequence[str],
    column_map: Mapping[str, str],
    defaults: Mapping[str, str],
    *,
    line: int | None,
) -> dict[str, str]:
    """Canonical field -> file column: ``--map`` first, then the reader's defaults, then names.

    Raises before anything is read when a mapping names an unknown field or column, or when a
    required field has no column.
    """
    listing = ", ".join(columns)
    for fld, col in column_map.items():
        if fld not in FIELDS:
            raise InputError(
                file,
                f"--map names unknown field {fld!r}",
                field=fld,
                hint="fields: " + ", ".join(FIELDS),
            )
        if col not in columns:
            raise InputError(
                file,
                f"--map {fld}={col}: the file has no column {col!r}",
                line=line,
                field=fld,
                hint=f"its columns: {listing}",
            )
    mapped_columns = set(column_map.values())
    out: dict[str, str] = {}
    for fld in FIELDS:
        if fld in column_map:
            out[fld] = column_map[fld]
        elif fld in defaults and defaults[fld] in columns and defaults[fld] not in mapped_columns:
            out[fld] = defaults[fld]
        elif fld in columns and fld not in defaults:
            out[fld] = fld
    for fld in _REQUIRED:
        if fld not in out:
            guess = _guess(fld, columns)
            example = f"--map {fld}={guess}" if guess else f"--map {fld}=COLUMN"
            raise InputError(
                file,
                f"missing required column {fld!r}",
                line=line,
                field=fld,
                hint=f"name the column that holds it with {example}; the file's columns: {listing}",
            )
    return out


def _guess(fld: str, columns: Sequence[str]) -> str | None:
    """A column that probably holds ``fld``, to make the hint concrete."""
    words = {
        "account_id": ("user_id", "author_id", "account", "user", "username", "author"),
        "created_at": ("timestamp", "time", "date", "publish_date", "created", "when", "posted"),
    }[fld]
    lowered = {c.lower(): c for c in columns}
    for w in words:
        if w in lowered:
            return lowered[w]
    for c in columns:
        if any(w in c.lower() for w in words):
            return c
    return None


def _time_sql(s: str, t: str, source: _Source) -> str:
    """SQL turning a column into TIMESTAMPTZ; NULL where it cannot (the caller quarantines).

    ``s`` is the column as trimmed text, ``t`` as typed in the file. Naive values are read in the
    session time zone, which the reader sets to ``--timezone``.
    """
    typ = source.type
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        return f"CAST({t} AS TIMESTAMPTZ)"
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        return _epoch_sql(f"CAST({t} AS DOUBLE)")
    naive = ", ".join(_lit(f) for f in _NAIVE_FORMATS)
    zoned = ", ".join(_lit(f) for f in _ZONED_FORMATS)
    epoch = _epoch_sql(f"CAST({s} AS DOUBLE)")
    # COALESCE evaluates each argument only for rows still NULL, so ISO input pays for one cast.
    return (
        f"CASE WHEN {s} <> '' THEN coalesce(try_cast({s} AS TIMESTAMPTZ), "
        f"CASE WHEN regexp_full_match({s}, '-?[0-9]{{1,14}}([.][0-9]+)?') THEN {epoch} END, "
        f"CAST(try_strptime({s}, [{naive}]) AS TIMESTAMPTZ), "
        f"try_strptime({s}, [{zoned}])) END"
    )


def _epoch_sql(x: str) -> str:
    # Seconds until 1e11 (year 5138); beyond that, milliseconds up to 1e14; larger is not a time.
    return (
        f"CASE WHEN abs({x}) < 1e11 THEN to_timestamp({x}) "
        f"WHEN abs({x}) < 1e14 THEN to_timestamp({x} / 1000) END"
    )


def _list_sql(s: str, t: str, source: _Source) -> str:
    if pa.types.is_list(source.type) or pa.types.is_large_list(source.type):
        return f"CAST({t} AS VARCHAR[])"
    # try(): a value that is not a JSON array becomes NULL (and is quarantined) in one parse.
    return (
        f"CASE WHEN {s} = '' THEN NULL "
        f"WHEN starts_with({s}, '[') THEN try(from_json({s}, '[\"VARCHAR\"]')) "
        f"ELSE string_split({s}, ' ') END"
    )


def _spelled(
    column: pa.ChunkedArray, mapping: Mapping[str, str], *, keep_unknown: bool
) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """Map spellings (``R``, ``English``) to canonical values through the column's dictionary.

    Returns the mapped column and a mask of rows whose non-empty value is not a known spelling
    (all false when unknown values are kept as they are).
    """
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    encoded = column.combine_chunks().dictionary_encode()
    values = encoded.dictionary.to_pylist()
    mapped: list[str | None] = []
    unknown: list[bool] = []
    for v in values:
        key = v.strip().lower()
        hit = mapping.get(key)
        if hit is None and keep_unknown:
            hit = v.strip() or None
        mapped.append(hit)
        unknown.append(bool(key) and hit is None)
    out = pa.array(mapped, pa.string()).take(encoded.indices)
    bad = pa.array(unknown, pa.bool_()).take(encoded.indices).fill_null(False)
    return pa.chunked_array([out]), pa.chunked_array([bad])


@dataclass
class _Plan:
    """The SQL of one file's conversion, built once from its header."""

    sql: str
    accounts_sql: str | None
    fields: dict[str, str]
    """Field -> source column."""
    order: list[str]
    """Output fields, in canonical order."""
    passthrough: list[str]
    """Fields copied from their column unchanged (text, ids)."""


def _plan(
    sources: Mapping[str, _Source],
    all_columns: Mapping[str, pa.DataType],
    empty: frozenset[str] = frozenset(),
) -> _Plan:
    """Build the conversion of blocks whose ``empty`` fields have no value at all: canonical
    values, the first bad field and its value. Empty fields are left out of the chunk (the
    pipeline reads a missing column as empty), which spares converting and conforming them."""
    first: list[str] = []  # over the block: each converted column as trimmed text (and typed)
    second: list[str] = []  # the canonical values
    checks: list[tuple[str, str]] = []  # (field, SQL true when the value is bad)
    for fld, source in sources.items():
        if fld in empty or not (
            fld in _TIMES or fld in _LISTS or fld in _DEGREES or fld in _COUNTS
        ):
            # Text and ids are taken from the block as they are, and the few distinct values of
            # kind and lang are mapped in Arrow: neither needs a round trip through DuckDB.
            continue
        src, s, t = _q(source.column), f"s_{fld}", f"t_{fld}"
        v = f"CAST({src} AS VARCHAR)"
        # trim() copies every string; most cells have nothing to trim.
        first.append(
            f"CASE WHEN starts_with({v}, ' ') OR ends_with({v}, ' ') THEN trim({v}) ELSE {v} END"
            f" AS {s}"
        )
        if not pa.types.is_string(source.type):
            first.append(f"{src} AS {t}")
        given = f"{s} <> ''"
        if fld in _TIMES:
            value = _time_sql(s, t, source)
            checks.append((fld, f"{given} AND v_{fld} IS NULL"))
        elif fld in _LISTS:
            value = _list_sql(s, t, source)
            checks.append((fld, f"{given} AND v_{fld} IS NULL"))
        elif fld in _DEGREES:
            value = f"CASE WHEN {given} THEN try_cast({s} AS DOUBLE) END"
            limit = _DEGREES[fld]
            checks.append((fld, f"{given} AND (v_{fld} IS NULL OR abs(v_{fld}) > {limit})"))
        else:  # counts
            as_double = f"try_cast({s} AS DOUBLE)"
            value = (
                f"CASE WHEN {given} THEN coalesce(try_cast({s} AS BIGINT), "
                f"CASE WHEN {as_double} = round({as_double}) THEN CAST({as_double} AS BIGINT) "
                "END) END"
            )
            checks.append((fld, f"{given} AND (v_{fld} IS NULL OR v_{fld} < 0)"))
        second.append(f"{value} AS v_{fld}, {s}")

    columns = list(all_columns)
    # `raw` keeps what no canonical field took; the rest is in typed columns already, and
    # serialising every row again would cost a quarter of the ingest time.
    # A `dataset` column (a table tidings wrote) is not data: the ingest names the dataset.
    taken = {s.column for s in sources.values()} | {"dataset"}
    unknown = [c for c in columns if c not in taken]
    computed = [f for f, _ in checks]
    if "raw" not in sources and unknown:
        pairs = ", ".join(f"{_lit(c)}, {_q(c)}" for c in unknown)
        first.append(f"CAST(json_object({pairs}) AS VARCHAR) AS v_raw")
        second.append("v_raw")
        computed.append("raw")
    computed = [f for f in (*schema.POSTS.names, *ACCOUNT_FIELDS) if f in computed]
    bad = " ".join(f"WHEN {cond} THEN {_lit(fld)}" for fld, cond in checks)
    sql = (
        f"SELECT {''.join(f'v_{f} AS {f}, ' for f in computed)}"
        f"{f'CASE {bad} END' if checks else 'NULL'} AS _bad "
        f"FROM (SELECT {''.join(c + ', ' for c in second)}_record "
        f"FROM (SELECT {''.join(c + ', ' for c in first)}_record FROM block))"
    )
    present = [f for f in sources if f not in empty]
    order = [f for f in (*schema.POSTS.names, *ACCOUNT_FIELDS) if f in present or f in computed]
    accounts_sql = None
    if any(f in sources for f in ACCOUNT_FIELDS):
        cols = ["account_id"]
        for f in ("account_name", "platform", *ACCOUNT_FIELDS):
            if f in present:
                cols.append(f"{f} AS created_at" if f == "account_created_at" else f)
        latest = "statuses DESC NULLS LAST" if "statuses" in present else "_record DESC"
        # One row per account and block (the latest profile), so a 10M-row file does not stage
        # 10M account rows for the pipeline to de-duplicate.
        accounts_sql = (
            f"SELECT DISTINCT ON (account_id) {', '.join(cols)} FROM good "
            f"WHERE account_id IS NOT NULL ORDER BY account_id, {latest}"
        )
    return _Plan(
        sql,
        accounts_sql,
        {f: s.column for f, s in sources.items()},
        order,
        [f for f in order if f not in computed],
    )


def _reason(fld: str, column: str, value: str | None) -> str:
    shown = repr(value if value is None or len(value) <= 80 else value[:80] + "…")
    where = f"in column {column!r}"
    if fld in _TIMES:
        return (
            f"unparseable date {shown} {where} (ISO 8601, epoch seconds, M/D/YYYY H:MM "
            "and similar are understood)"
        )
    if fld in _LISTS:
        return f"not a JSON array {shown} {where} (lists are JSON arrays or space-separated)"
    if fld in _DEGREES:
        return f"not a {'latitude' if fld == 'lat' else 'longitude'} {shown} {where}"
    if fld in _COUNTS:
        return f"not a count (a whole number ≥ 0) {shown} {where}"
    if fld == "kind":
        return f"unknown kind {shown} {where} (post, repost, reply or quote; R/RT/Q understood)"
    return f"bad value {shown} {where}"


class TableReader(Reader):
    """Shared conversion of tables, whatever the container (CSV, Parquet)."""

    defaults: ClassVar[Mapping[str, str]] = {}
    """Field -> column used when the user did not ``--map`` the field (CooRTweet's names)."""

    def __init__(self, path: Path, options: ReadOptions) -> None:
        super().__init__(path, options)
        try:
            zoneinfo.ZoneInfo(options.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise InputError(
                str(path),
                f"unknown time zone {options.timezone!r}",
                hint="use an IANA name such as UTC or Asia/Baghdad",
            ) from None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._plan: _Plan | None = None
        self._sources: dict[str, _Source] = {}
        self._columns: dict[str, pa.DataType] = {}
        self._plans: dict[frozenset[str], _Plan] = {}

    def _prepare(self, columns: Mapping[str, pa.DataType], header_line: int | None) -> _Plan:
        fields = _resolve(
            str(self.path), list(columns), self.options.column_map, self.defaults, line=header_line
        )
        sources = {f: _Source(c, columns[c]) for f, c in fields.items()}
        con = duckdb.connect(
            config={"threads": 1, "memory_limit": "1GB", "preserve_insertion_order": True}
        )
        con.execute(f"SET TimeZone = {_lit(self.options.timezone)}")
        self._con = con
        self._sources = sources
        self._columns = dict(columns)
        self._plan = _plan(sources, columns)
        return self._plan

    def _plan_for(self, block: pa.Table) -> _Plan:
        """The plan for this block, leaving out the fields whose column is empty throughout."""
        assert self._plan is not None
        empty = frozenset(
            f
            for f, src in self._sources.items()
            if f not in _REQUIRED and _all_empty(block.column(src.column))
        )
        if not empty:
            return self._plan
        if empty not in self._plans:
            self._plans[empty] = _plan(self._sources, self._columns, empty)
        return self._plans[empty]

    def _convert(self, block: pa.Table) -> Chunk:
        """One block of source rows (plus ``_record``) -> canonical chunk and problems."""
        assert self._con is not None
        con, plan = self._con, self._plan_for(block)
        con.register("block", block)
        done = con.sql(plan.sql).to_arrow_table()
        con.unregister("block")
        if done.num_rows != block.num_rows:
            raise RuntimeError("conversion changed the number of rows")
        columns: list[pa.ChunkedArray] = []
        bad_kind = None
        for f in plan.order:
            if f == "kind":
                kinds, bad_kind = _spelled(block.column(plan.fields[f]), _KINDS, keep_unknown=False)
                columns.append(kinds)
            elif f == "lang":
                langs, _ = _spelled(block.column(plan.fields[f]), _LANGUAGES, keep_unknown=True)
                columns.append(langs)
            elif f in plan.passthrough:
                col = block.column(plan.fields[f])
                columns.append(col if pa.types.is_string(col.type) else col.cast(pa.string()))
            elif f in _TIMES:
                columns.append(done.column(f).cast(pa.timestamp("us", tz="UTC")))
            else:
                columns.append(done.column(f))
        out = pa.table([*columns, block.column("_record")], names=[*plan.order, "_record"])
        bad_field = done.column("_bad")
        if bad_kind is not None and pc.any(bad_kind).as_py():
            bad_field = pc.if_else(pc.and_(bad_kind, bad_field.is_null()), "kind", bad_field)
        bad_mask = bad_field.is_valid()
        problems: list[Problem] = []
        if pc.any(bad_mask).as_py():
            originals = block.drop_columns(["_record"]).filter(bad_mask).to_pylist()
            for rec, fld, row in zip(
                block.column("_record").filter(bad_mask).to_pylist(),
                bad_field.filter(bad_mask).to_pylist(),
                originals,
                strict=True,
            ):
                column = plan.fields[fld]
                value = row[column] if isinstance(row[column], str) else str(row[column])
                raw = json.dumps(row, ensure_ascii=False, default=str)
                problems.append(Problem(rec, fld, _reason(fld, column, value.strip()), raw))
            out = out.filter(pc.invert(bad_mask))
        accounts = None
        if plan.accounts_sql is not None and out.num_rows:
            con.register("good", out)
            accounts = con.sql(plan.accounts_sql).to_arrow_table()
            con.unregister("good")
            accounts = _utc(accounts, "created_at")
        posts = out.drop_columns([f for f in ACCOUNT_FIELDS if f in out.column_names])
        return Chunk(posts=posts, accounts=accounts, problems=problems)

    def _close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def _all_empty(column: pa.ChunkedArray) -> bool:
    if column.null_count == len(column):
        return True
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        longest = pc.max(pc.binary_length(column)).as_py()
        return longest is None or longest == 0
    return False


def _utc(table: pa.Table, name: str) -> pa.Table:
    if name not in table.column_names:
        return table
    i = table.column_names.index(name)
    return table.set_column(i, name, table.column(i).cast(pa.timestamp("us", tz="UTC")))


_END = object()


def _ahead(chunks: Generator[Chunk, None, None], depth: int = 2) -> Iterator[Chunk]:
    """Produce ``chunks`` in a worker thread, up to ``depth`` ahead of the consumer.

    Parsing and converting the next block (Arrow and DuckDB release the GIL) then overlaps the
    pipeline's validation and Parquet writing of this one: that is what puts the second core to
    work. Errors in the worker are re-raised here; closing this generator stops the worker.
    """
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        item: object = _END
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            item = exc
        finally:
            chunks.close()
        put(item)

    worker = threading.Thread(target=work, name="tidings-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Chunk)
            yield item
    finally:
        stop.set()
        worker.join()


# -- CSV -----------------------------------------------------------------------------------------


def _looks_binary(head: bytes) -> bool:
    return b"\x00" in head[:4096]


def _boundary(buf: bytearray, end: int, *, final: bool) -> int:
    """Offset just past the last record boundary in ``buf[:end]`` (0 if none yet).

    A newline ends a record when the quotes before it are balanced: RFC 4180 writers double every
    quote inside a quoted field, so parity is exact for their files.
    """
    if final:
        return end
    quotes = buf.count(b'"', 0, end)
    pos = end
    after = 0
    for _ in range(_MAX_BACKTRACK):
        nl = buf.rfind(b"\n", 0, pos)
        if nl < 0:
            return 0
        after += buf.count(b'"', nl, pos)
        if (quotes - after) % 2 == 0:
            return nl + 1
        pos = nl
    return 0


def _blocks(fh: io.BufferedReader, first: bytes) -> Iterator[tuple[memoryview, int]]:
    """Cut the stream into blocks of whole records: (block, number of newlines in it).

    One buffer is reused for every block, so the file's bytes are copied once (from the page
    cache) instead of three times into fresh memory; each block is parsed into new Arrow arrays
    before the next is read over it.
    """
    buf = bytearray(2 * _BLOCK)
    carry = first
    while True:
        if len(carry) + _BLOCK > len(buf):
            buf = bytearray(len(carry) + _BLOCK)  # a record longer than a block: rare
        buf[: len(carry)] = carry
        with memoryview(buf) as free:
            n = fh.readinto(free[len(carry) : len(carry) + _BLOCK])
        end = len(carry) + n
        if end == 0:
            return
        cut = _boundary(buf, end, final=n == 0)
        if cut == 0 and end > _MAX_CARRY:
            # Unbalanced quotes (a stray '"' in an unquoted field): fall back to the last newline
            # rather than buffer the rest of the file; the parser then reports the rows it
            # cannot split as ragged, with their lines.
            cut = buf.rfind(b"\n", 0, end) + 1
            if cut == 0:
                raise InputError(
                    getattr(fh, "name", "input"),
                    f"no line end in {end >> 20} MB; this is not a CSV file",
                )
        if cut:
            yield memoryview(buf)[:cut], buf.count(b"\n", 0, cut)
        carry = bytes(buf[cut:end])
        if n == 0:
            if carry:
                yield memoryview(carry), carry.count(b"\n")
            return


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _has_surrogates(value: str) -> bool:
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class CsvReader(TableReader):
    """Any CSV (or TSV) with a header row; columns named after the canonical fields or mapped."""

    name: ClassVar[str] = "generic-csv"
    label: ClassVar[str] = "generic CSV"
    numbering: ClassVar[Literal["line", "record"]] = "line"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        # Tried last under `auto`: any text file. A JSON file nobody else claimed gets a clear
        # "looks like JSON" from read() instead of a parse error.
        return bool(head) and not _looks_binary(head)

    def _header(self, fh: io.BufferedReader) -> tuple[list[str], str, int, bytes]:
        """Column names, delimiter, lines the header spans, and the bytes read past it.

        The header is the first record as the csv module reads it, which follows the same rule
        as Arrow's parser (a quote opens a quoted field only at the start of a cell), so a stray
        quote in a header cell cannot swallow the rows after it.
        """
        file = str(self.path)
        head = fh.read(1 << 16)
        stripped = head.split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf").strip()
        if not stripped:
            raise InputError(file, "the first line is blank; a CSV needs a header row", line=1)
        if stripped[:1] in (b"{", b"["):
            raise InputError(
                file,
                "looks like JSON, not CSV",
                line=1,
                hint="the JSON tidings reads is Twitter API v1.1/v2 (--format twitter) and "
                "Telegram's result.json (--format telegram)",
            )
        if b"\n" not in head and b"\r" in head:
            raise InputError(
                file,
                "lines end in a bare carriage return (old Mac style), which is not read",
                line=1,
                hint="convert the line ends to LF or CRLF first",
            )
        delimiter = _delimiter(stripped.decode("utf-8", errors="replace"))
        while True:
            text = head.decode("utf-8-sig", errors="surrogateescape")
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            try:
                names = next(reader)
            except csv.Error:
                names = []
            lines = reader.line_num
            complete = bool(names) and lines <= text.count("\n") and text.count("\n") > 0
            more = b"" if complete or len(head) >= 1 << 20 else fh.read(1 << 16)
            if not more:
                break
            head += more
        cut = 0
        for _ in range(lines):
            cut = head.find(b"\n", cut) + 1
            if cut == 0:
                cut = len(head)
                break
        rest = head[cut:]
        bad = next((n for n in names if _has_surrogates(n)), None)
        if bad is not None or not names:
            raise InputError(file, "the header is not UTF-8 text", line=1)
        columns: list[str] = []
        for i, n in enumerate(names):
            n = n.strip() or f"column{i + 1}"
            if n in columns:
                raise InputError(file, f"column {n!r} appears twice in the header", line=1, field=n)
            columns.append(n)
        return columns, delimiter, lines, rest

    def read(self) -> Iterator[Chunk]:
        with self.path.open("rb") as fh:
            columns, delimiter, header_lines, rest = self._header(fh)
            types = dict.fromkeys(columns, pa.string())
            self._prepare(types, header_lines)
            yield from _ahead(self._chunks(fh, rest, header_lines + 1, columns, delimiter))

    def _chunks(
        self, fh: io.BufferedReader, rest: bytes, line: int, columns: list[str], delimiter: str
    ) -> Generator[Chunk, None, None]:
        try:
            for block, newlines in _blocks(fh, rest):
                yield from self._block(block, line, newlines, columns, delimiter)
                line += newlines
        finally:
            self._close()

    def _block(
        self, block: memoryview, line: int, newlines: int, columns: list[str], delimiter: str
    ) -> Iterator[Chunk]:
        lines = newlines + (0 if block[-1] == ord("\n") else 1)
        table = self._parse(block, columns, delimiter)
        if table is not None:
            records = _line_numbers(table, line, lines)
            if records is not None:
                table = table.append_column("_record", records)
                for start in range(0, table.num_rows, _BATCH * 2):
                    yield self._convert(table.slice(start, _BATCH * 2))
                return
        yield from self._slow_block(block, line, columns, delimiter)

    def _parse(self, block: memoryview, columns: list[str], delimiter: str) -> pa.Table | None:
        try:
            return pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(block)),
                read_options=pacsv.ReadOptions(
                    column_names=columns, block_size=4 << 20, use_threads=False
                ),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(columns, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid:
            # Invalid UTF-8 or a ragged row somewhere in the block: find it row by row.
            return None

    def _slow_block(
        self, block: memoryview, line: int, columns: list[str], delimiter: str
    ) -> Iterator[Chunk]:
        """Parse a block Arrow refused with the csv module, quarantining exactly the bad rows."""
        text = bytes(block).decode("utf-8", errors="surrogateescape")
        # Arrow has no limit on a cell's size; the csv module's default (128 KiB) would turn a
        # long post into a parse error. The limit is the module's, so it is put back after.
        limit = csv.field_size_limit(max(csv.field_size_limit(), len(text)))
        try:
            rows, records, problems = self._split(text, line, columns, delimiter)
        finally:
            csv.field_size_limit(limit)
        if problems:
            yield Chunk(problems=problems)
        for s in range(0, len(rows), _BATCH):
            part = rows[s : s + _BATCH]
            arrays = [pa.array([r[i] for r in part], pa.string()) for i in range(len(columns))]
            table = pa.table([*arrays, pa.array(records[s : s + _BATCH], pa.int64())],
                             names=[*columns, "_record"])  # fmt: skip
            yield self._convert(table)

    def _split(
        self, text: str, line: int, columns: list[str], delimiter: str
    ) -> tuple[list[list[str]], list[int], list[Problem]]:
        """Good rows with their lines, and a problem for each row that is not."""
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows: list[list[str]] = []
        records: list[int] = []
        problems: list[Problem] = []
        fields = {c: f for f, c in (self._plan.fields if self._plan else {}).items()}
        end = 0
        while True:
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                # Malformed beyond splitting (a quote left open at the end of the file): the
                # rest of the block is one bad record, kept whole in quarantine.
                rest = "".join(text.splitlines(keepends=True)[end:])
                rest = rest.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                problems.append(Problem(line + end, None, f"not parseable as CSV ({exc})", rest))
                break
            start, end = line + end, reader.line_num
            if not rec:
                continue
            shown = (
                delimiter.join(rec).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            )
            if len(rec) != len(columns):
                reason = f"expected {len(columns)} cells as in the header, found {len(rec)}"
                problems.append(Problem(start, None, reason, shown))
                continue
            bad = [c for c, v in zip(columns, rec, strict=True) if _has_surrogates(v)]
            if bad:
                reason = f"invalid UTF-8 bytes in column {bad[0]!r}"
                problems.append(Problem(start, fields.get(bad[0], bad[0]), reason, shown))
                continue
            rows.append(rec)
            records.append(start)
        return rows, records, problems


def _line_numbers(table: pa.Table, first: int, lines: int) -> pa.Array | None:
    """Line of each row, or None when they cannot be told from the block (blank lines)."""
    n = table.num_rows
    if n == lines:
        return pa.array(np.arange(first, first + n, dtype=np.int64))
    # Quoted fields with newlines: each row spans 1 + its newlines.
    spans = None
    for col in table.columns:
        count = pc.count_substring(col, "\n")
        spans = count if spans is None else pc.add(spans, count)
    if spans is None:
        return None
    extra = pc.cast(spans, pa.int64())
    if n + int(pc.sum(extra).as_py() or 0) != lines:
        return None
    steps = np.ones(n, dtype=np.int64) + extra.to_numpy(zero_copy_only=False)
    starts = np.concatenate(([0], np.cumsum(steps)[:-1])) + first
    return pa.array(starts, pa.int64())


# -- Parquet -------------------------------------------------------------------------------------


class ParquetReader(TableReader):
    """A Parquet file with columns named after the canonical fields or mapped; typed columns
    (timestamps, lists, numbers) are taken as they are."""

    name: ClassVar[str] = "generic-parquet"
    label: ClassVar[str] = "generic Parquet"
    numbering: ClassVar[Literal["line", "record"]] = "record"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        return head[:4] == b"PAR1"

    def read(self) -> Iterator[Chunk]:
        try:
            pf = pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(str(self.path), f"not a readable Parquet file ({exc})") from None
        arrow_schema = pf.schema_arrow
        self._prepare({f.name: f.type for f in arrow_schema}, None)
        yield from _ahead(self._chunks(pf))

    def _chunks(self, pf: pq.ParquetFile) -> Generator[Chunk, None, None]:
        record = 1
        try:
            for batch in pf.iter_batches(batch_size=_BATCH):
                n = batch.num_rows
                table = pa.Table.from_batches([batch]).append_column(
                    "_record", pa.array(np.arange(record, record + n, dtype=np.int64))
                )
                record += n
                yield self._convert(table)
        finally:
            self._close()
