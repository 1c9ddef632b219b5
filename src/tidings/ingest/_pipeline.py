"""From reader chunks to published tables: conform, validate, stage, de-duplicate, publish.

Every reader goes through this one path, so the guarantees hold for every format: required
fields are checked the same way, empty strings never become URLs, hashtags or ids, bad records
land in the quarantine table with the reason, a post without an id gets a deterministic one, and
re-ingesting the same input stores nothing new. Nothing is published until every file has been read.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import schema
from ..errors import InputError
from ..workspace import Workspace, new_id
from ._base import Problem, Reader

__all__ = ["FileResult", "IngestResult", "check_input", "run_ingest"]

_MAX_RAW = 4000
_ROWS_PER_FILE = 2_000_000
_ID_FIELDS = ("post_id", "account_id", "repost_of", "reply_to", "quote_of")
_LIST_FIELDS = ("urls", "hashtags", "mentions", "media", "withheld_in")


@dataclass
class FileResult:
    """What happened to one input file."""

    path: str
    format: str
    label: str
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    accounts: int = 0
    derived_ids: int = 0
    skipped: int = 0
    """Records that are not posts (e.g. service messages), read and counted but not stored."""
    problems: list[str] = field(default_factory=list)
    """The first few quarantine reasons, as one-line messages (file:line: field: reason)."""


@dataclass
class IngestResult:
    """Totals of one ``ingest`` call; ``files`` has the per-file detail."""

    dataset: str
    files: list[FileResult]

    def _sum(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)

    @property
    def read(self) -> int:
        return self._sum("read")

    @property
    def stored(self) -> int:
        return self._sum("stored")

    @property
    def duplicates(self) -> int:
        return self._sum("duplicates")

    @property
    def quarantined(self) -> int:
        return self._sum("quarantined")

    @property
    def accounts(self) -> int:
        return self._sum("accounts")

    @property
    def derived_ids(self) -> int:
        return self._sum("derived_ids")

    @property
    def skipped(self) -> int:
        return self._sum("skipped")


def _sql_list(name: str) -> str:
    # Empty strings and nulls are never values: a CSV export's empty cell must not become the
    # URL '' that links every post without a link (CNT's co_link bug).
    cleaned = f"list_filter({name}, lambda x: x IS NOT NULL AND trim(x) <> '')"
    if name in ("hashtags", "mentions"):
        cleaned = f"list_transform({cleaned}, lambda x: lower(ltrim(trim(x), '#@')))"
        cleaned = f"list_filter({cleaned}, lambda x: x <> '')"
    return f"CASE WHEN {name} IS NULL THEN [] ELSE {cleaned} END AS {name}"


def _clean_text(name: str) -> str:
    """SQL for a string trimmed of spaces, NULL when empty.

    trim() copies every string, so only strings that start or end with a space are trimmed:
    the same result at about half the cost on text columns.
    """
    v = f"CAST({name} AS VARCHAR)"
    return (
        f"CASE WHEN {v} = '' THEN NULL WHEN starts_with({v}, ' ') OR ends_with({v}, ' ') "
        f"THEN nullif(trim({v}), '') ELSE {v} END"
    )


def _conform_sql(columns: list[str], platform: str, dataset: str) -> str:
    """SQL that turns a chunk into exact canonical posts plus ``_record``, ``_derived`` and
    ``_missing`` (the first required field that is absent)."""
    sel: list[str] = []
    for f in schema.POSTS:
        name = f.name
        if name == "raw":
            continue
        if name not in columns:
            value = "NULL"
        elif name in _ID_FIELDS or pa.types.is_string(f.type):
            value = _clean_text(name)
        else:
            value = name
        sel.append(f"{value} AS {name}")
    inner = ", ".join(sel) + ", _record"
    lists = ", ".join(_sql_list(n) for n in _LIST_FIELDS)
    derived = "post_id IS NULL AND account_id IS NOT NULL AND created_at IS NOT NULL"
    derive = (
        "'d' || substr(md5(account_id || chr(31) || CAST(epoch_us(created_at) AS VARCHAR) "
        "|| chr(31) || coalesce(text, '')), 1, 24)"
    )
    kind = (
        "coalesce(lower(kind), CASE WHEN repost_of IS NOT NULL THEN 'repost' "
        "WHEN quote_of IS NOT NULL THEN 'quote' WHEN reply_to IS NOT NULL THEN 'reply' "
        "ELSE 'post' END)"
    )
    plat = platform.replace("'", "''")
    ds = dataset.replace("'", "''")
    out: list[str] = []
    for f in schema.POSTS:
        n = f.name
        if n == "post_id":
            out.append(f"CASE WHEN {derived} THEN {derive} ELSE post_id END AS post_id")
        elif n == "platform":
            out.append(f"coalesce(lower(platform), '{plat}') AS platform")
        elif n == "kind":
            out.append(f"{kind} AS kind")
        elif n == "dataset":
            out.append(f"'{ds}' AS dataset")
        elif n == "raw":
            continue  # joined again afterwards, see _raw
        elif n in _LIST_FIELDS:
            continue
        elif n == "created_at":
            out.append("CAST(created_at AS TIMESTAMPTZ) AS created_at")
        else:
            out.append(n)
    out_cols = ", ".join(out)
    return f"""
        WITH c AS (SELECT {inner} FROM chunk)
        SELECT {out_cols}, {lists}, _record,
            ({derived}) AS _derived,
            CASE WHEN account_id IS NULL THEN 'account_id'
                 WHEN created_at IS NULL THEN 'created_at' END AS _missing
        FROM c
    """


_ACCOUNT_CLEAN = {"account_id", "account_name", "display_name", "platform"}


def _conform_accounts_sql(columns: list[str], platform: str, dataset: str) -> str:
    sel: list[str] = []
    for f in schema.ACCOUNTS:
        n = f.name
        if n == "dataset":
            sel.append(f"'{dataset.replace(chr(39), chr(39) * 2)}' AS dataset")
        elif n == "platform":
            value = "lower(platform)" if "platform" in columns else "NULL"
            sel.append(f"coalesce({value}, '{platform.replace(chr(39), chr(39) * 2)}') AS platform")
        elif n not in columns:
            sel.append(f"NULL AS {n}")
        elif n in _ACCOUNT_CLEAN:
            sel.append(f"nullif(trim(CAST({n} AS VARCHAR)), '') AS {n}")
        elif n == "withheld_in":
            sel.append(_sql_list(n))
        else:
            sel.append(n)
    return f"SELECT {', '.join(sel)} FROM chunk WHERE nullif(trim(account_id), '') IS NOT NULL"


# Dictionary-encoding columns that are (nearly) unique per row, and min/max statistics of long
# free text, cost a fifth of the Parquet writing time and save nothing: the writer falls back to
# plain pages, and no query filters on the range of `text`.
_UNIQUE = frozenset({"post_id", "text", "raw", "created_at", "repost_of", "reply_to", "quote_of"})
_LONG_TEXT = frozenset({"text", "raw", "description"})


class _Stager:
    """Writes one table's rows into numbered Parquet parts in the staging directory.

    Writing runs in a thread of its own, one table behind the caller: encoding and compressing
    chunk N then overlaps the validation of chunk N+1, which matters on two cores. An error in
    the writer is raised by the next ``write`` or by ``close``.
    """

    def __init__(self, directory: Path, prefix: str, arrow_schema: pa.Schema) -> None:
        self.directory = directory
        self.prefix = prefix
        self.schema = arrow_schema
        self.files: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._rows = 0
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=2)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._raise()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="tidings-stager", daemon=True)
            self._thread.start()
        self._queue.put(table)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._close_file()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        while (table := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep taking tables so that the caller never blocks on a dead writer
            try:
                self._write_now(table)
            except BaseException as exc:  # handed to the caller by _raise
                self._error = exc

    def _write_now(self, table: pa.Table) -> None:
        if self._writer is None or self._rows >= _ROWS_PER_FILE:
            self._close_file()
            path = self.directory / f"{self.prefix}-{len(self.files):05d}.parquet"
            self.files.append(path)
            self._writer = pq.ParquetWriter(
                path,
                self.schema,
                compression="zstd",
                use_dictionary=[n for n in self.schema.names if n not in _UNIQUE],
                write_statistics=[n for n in self.schema.names if n not in _LONG_TEXT],
            )
            self._rows = 0
        self._writer.write_table(table.cast(self.schema), row_group_size=256_000)
        self._rows += table.num_rows

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _cast_chunk(table: pa.Table) -> pa.Table:
    """Give columns the canonical types where the reader left them loose (all-null columns)."""
    fields = {f.name: f for f in schema.POSTS}
    arrays, names = [], []
    for name in table.column_names:
        col = table.column(name)
        target = fields.get(name)
        if target is not None and col.type == pa.null():
            col = pa.nulls(len(col), target.type)
        arrays.append(col)
        names.append(name)
    return pa.table(arrays, names=names)


_RAW_CAP = 1 << 20
"""Characters of a record kept as ``raw``: a record longer than a megabyte is not a post."""


def _raw(column: pa.ChunkedArray | None, rows: int) -> pa.ChunkedArray:
    """``raw`` as stored: trimmed of spaces, NULL when empty, at most ``_RAW_CAP`` characters.

    It bypasses the conform SQL (its rows keep their order, see run_ingest): taking a 2 KB
    tweet into DuckDB and back out costs more than everything else the SQL does to the post.
    """
    if column is None or column.null_count == rows:
        return pa.chunked_array([pa.nulls(rows, pa.string())])
    column = column.cast(pa.string())
    padded = pc.or_(pc.starts_with(column, " "), pc.ends_with(column, " "))
    if pc.any(padded).as_py():
        column = pc.if_else(padded, pc.utf8_trim(column, " "), column)
    if pc.any(pc.equal(column, "")).as_py():
        column = pc.if_else(pc.equal(column, ""), None, column)
    if (pc.max(pc.binary_length(column)).as_py() or 0) > _RAW_CAP:
        long = pc.greater(pc.binary_length(column), _RAW_CAP)
        column = pc.if_else(long, pc.utf8_slice_codeunits(column, 0, _RAW_CAP), column)
    return column


def _quarantine_row(ingest_id: str, dataset: str, file: str, p: Problem) -> dict[str, object]:
    raw = p.raw if p.raw is None or len(p.raw) <= _MAX_RAW else p.raw[:_MAX_RAW] + "…"
    return {
        "ingest_id": ingest_id,
        "dataset": dataset,
        "file": file,
        "record": p.record,
        "field": p.field,
        "reason": p.reason,
        "raw": raw,
    }


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    table = con.sql(sql).to_arrow_table()
    assert table is not None
    return table


def _where(reader: Reader, file: str, record: int) -> str:
    return f"{file}:{record}" if reader.numbering == "line" else f"{file}, record {record}"


def _read_file(
    con: duckdb.DuckDBPyConnection,
    reader: Reader,
    res: FileResult,
    dataset: str,
    ingest_id: str,
    posts: _Stager,
    accounts: _Stager,
    quarantine: list[dict[str, object]],
    tick: Callable[[int], None],
) -> None:
    platform = reader.options.platform or reader.platform or "unknown"
    file = str(reader.path)

    def problem(p: Problem) -> None:
        res.quarantined += 1
        quarantine.append(_quarantine_row(ingest_id, dataset, file, p))
        if len(res.problems) < 5:
            where = _where(reader, file, p.record)
            field_part = f"field {p.field!r}: " if p.field else ""
            res.problems.append(f"{where}: {field_part}{p.reason}")

    for chunk in reader.read():
        res.read += chunk.skipped
        res.skipped += chunk.skipped
        for p in chunk.problems:
            res.read += 1
            problem(p)
        if chunk.posts is not None and chunk.posts.num_rows:
            tbl = _cast_chunk(chunk.posts)
            if "_record" not in tbl.column_names:
                raise RuntimeError(f"reader {reader.name} did not number its records")
            raw = tbl.column("raw") if "raw" in tbl.column_names else None
            if raw is not None:
                tbl = tbl.drop_columns(["raw"])
            con.register("chunk", tbl)
            out = _arrow(con, _conform_sql(tbl.column_names, platform, dataset))
            con.unregister("chunk")
            if out.num_rows != tbl.num_rows:
                raise RuntimeError("the conform step must keep every row, in order")
            out = out.append_column("raw", _raw(raw, out.num_rows))
            res.read += out.num_rows
            missing = out.column("_missing")
            bad_mask = missing.is_valid()
            n_bad = int(pc.sum(bad_mask).as_py() or 0)
            if n_bad:
                bad = out.filter(bad_mask)
                raws = bad.column("raw").to_pylist()
                for rec, fld, raw in zip(
                    bad.column("_record").to_pylist(),
                    bad.column("_missing").to_pylist(),
                    raws,
                    strict=True,
                ):
                    problem(Problem(rec, fld, "required field is missing or empty", raw))
                out = out.filter(pc.invert(bad_mask))
            res.derived_ids += int(pc.sum(out.column("_derived")).as_py() or 0)
            posts.write(out.select(schema.POSTS.names))
            tick(out.num_rows + n_bad)
        if chunk.accounts is not None and chunk.accounts.num_rows:
            tbl = chunk.accounts
            con.register("chunk", tbl)
            sql = _conform_accounts_sql(tbl.column_names, platform, dataset)
            acc = _arrow(con, sql)
            con.unregister("chunk")
            accounts.write(acc)


def _files_sql(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def run_ingest(
    ws: Workspace,
    readers: Iterable[Reader],
    *,
    dataset: str,
    progress: Callable[[str, int], None] | None = None,
) -> IngestResult:
    """Read every file, then publish all of it in one step, or nothing at all."""
    ingest_id = new_id("ingest")
    started = datetime.now(UTC)
    results: list[FileResult] = []
    quarantine: list[dict[str, object]] = []
    con = ws.connect(memory_limit=_ingest_memory_limit(ws), threads=None)
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    # While reading, DuckDB conforms chunk by chunk on one thread, in order: the reader and the
    # Parquet writer have the other cores (a second DuckDB thread on a chunk this small costs
    # 40 % more CPU than it saves), and `raw`, kept out of the SQL, joins its rows again.
    con.execute("SET threads = 1; SET preserve_insertion_order = true")
    with ws.staging() as stage:
        post_parts: list[tuple[FileResult, _Stager]] = []
        account_parts: list[tuple[FileResult, _Stager]] = []
        for i, reader in enumerate(readers):
            res = FileResult(str(reader.path), reader.name, reader.label)
            results.append(res)
            posts = _Stager(stage, f"p{i:04d}", schema.POSTS)
            accounts = _Stager(stage, f"a{i:04d}", schema.ACCOUNTS)

            def tick(n: int, _path: str = str(reader.path)) -> None:
                if progress is not None:
                    progress(_path, n)

            try:
                _read_file(con, reader, res, dataset, ingest_id, posts, accounts, quarantine, tick)
            finally:
                posts.close()
                accounts.close()
            post_parts.append((res, posts))
            account_parts.append((res, accounts))

        con.execute(f"SET threads = {int(threads)}; SET preserve_insertion_order = false")
        moves = _dedupe_posts(con, ws, stage, dataset, post_parts, ingest_id)
        moves.update(_dedupe_accounts(con, ws, stage, dataset, account_parts, ingest_id))
        q = pa.Table.from_pylist(quarantine, schema=schema.QUARANTINE)
        with ws.publish(moves) as cat:
            cat.execute(
                "INSERT INTO datasets SELECT ?, ?, NULL WHERE NOT EXISTS "
                "(SELECT 1 FROM datasets WHERE name = ?)",
                [dataset, started, dataset],
            )
            for res in results:
                cat.execute(
                    "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        f"{ingest_id}/{len(res.path)}:{res.path}",
                        dataset,
                        res.path,
                        res.format,
                        res.read,
                        res.stored,
                        res.duplicates,
                        res.quarantined,
                        res.accounts,
                        res.derived_ids,
                        started,
                        datetime.now(UTC),
                        [str(d.relative_to(ws.path)) for d in moves.values()],
                    ],
                )
            if q.num_rows:
                cat.register("q", q)
                cat.execute("INSERT INTO quarantine SELECT * FROM q")
                cat.unregister("q")
    con.close()
    return IngestResult(dataset, results)


def _ingest_memory_limit(ws: Workspace) -> str:
    # Ingest streams; a modest limit keeps the whole process under the 4 GB the issue sets,
    # however large the workspace's analysis limit is.
    return os.environ.get("TIDINGS_INGEST_MEMORY_LIMIT", "2GB")


def _dedupe_posts(
    con: duckdb.DuckDBPyConnection,
    ws: Workspace,
    stage: Path,
    dataset: str,
    parts: list[tuple[FileResult, _Stager]],
    ingest_id: str,
) -> dict[Path, Path]:
    """Drop posts already stored in the dataset, and repeats within this input (first wins).

    The common case, nothing repeated, costs one scan of the id column and publishes the staged
    files as they are; only when there are repeats is the staged data rewritten.
    """
    files = [f for _, s in parts for f in s.files]
    if not files:
        return {}
    existing = ws.table_files("posts", datasets=[dataset])
    staged = f"read_parquet({_files_sql(files)}, filename = true, file_row_number = true)"
    exist_rel = (
        f"(SELECT platform, post_id FROM read_parquet({_files_sql(existing)}))"
        if existing
        else "(SELECT NULL::VARCHAR AS platform, NULL::VARCHAR AS post_id WHERE false)"
    )
    # The ids that need a decision: repeated within this input, or stored already. Grouping
    # every staged id is the expensive step, so it is done once.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rep AS
        SELECT platform, post_id FROM {staged} GROUP BY ALL HAVING count(*) > 1
        UNION ALL SELECT platform, post_id FROM {exist_rel}"""
    )
    rep = "(SELECT platform, post_id FROM _rep)"
    dropped: dict[Path, int] = {}
    merged: set[str] = set()
    if _count(con, "_rep"):
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _keep AS
            SELECT filename, file_row_number, platform, post_id FROM (
                SELECT s.filename, s.file_row_number, s.platform, s.post_id,
                       row_number() OVER (PARTITION BY s.platform, s.post_id
                                          ORDER BY s.filename, s.file_row_number) AS rn
                FROM {staged} s
                WHERE (s.platform, s.post_id) IN {rep}
            ) d
            WHERE rn = 1
              AND (platform, post_id) NOT IN (SELECT platform, post_id FROM {exist_rel})
            """
        )
        # Rows in _keep are the kept members of repeated ids; every other repeated row is
        # dropped.
        dup_counts = con.execute(
            f"""SELECT s.filename, count(*) FROM {staged} s
            WHERE (s.platform, s.post_id) IN {rep}
              AND (s.filename, s.file_row_number) NOT IN (
                  SELECT filename, file_row_number FROM _keep)
            GROUP BY 1"""
        ).fetchall()
        dropped = {Path(f): int(n) for f, n in dup_counts}
        merged = _merge_repeats(con, staged, parts)
    moves: dict[Path, Path] = {}
    dest = ws.path / "posts" / dataset
    for res, stager in parts:
        total = 0
        for f in stager.files:
            rows = pq.ParquetFile(f).metadata.num_rows
            n_drop = dropped.get(f, 0)
            res.duplicates += n_drop
            total += rows - n_drop
            if n_drop == rows:
                continue
            target = dest / f"{ingest_id}-{f.name}"
            if n_drop or str(f) in merged:
                kept = stage / f"kept-{f.name}"
                path_lit = "'" + str(f).replace("'", "''") + "'"
                lists = ", ".join(f"coalesce(m.{n}, s.{n}) AS {n}" for n in _LIST_FIELDS)
                con.execute(
                    f"""COPY (
                        SELECT s.* EXCLUDE (filename, file_row_number) REPLACE ({lists})
                        FROM read_parquet({path_lit}, filename = true, file_row_number = true) s
                        LEFT JOIN _merged m
                          ON m.filename = s.filename AND m.file_row_number = s.file_row_number
                        WHERE NOT ((s.platform, s.post_id) IN {rep}
                            AND (s.filename, s.file_row_number) NOT IN (
                                SELECT filename, file_row_number FROM _keep))
                        ORDER BY s.file_row_number
                    ) TO '{kept}' (FORMAT parquet, COMPRESSION zstd)"""
                )
                moves[kept] = target
            else:
                moves[f] = target
        res.stored = total
    return moves


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _merge_repeats(
    con: duckdb.DuckDBPyConnection, staged: str, parts: list[tuple[FileResult, _Stager]]
) -> set[str]:
    """Give each kept post the union of the lists of its repeats *within the same input file*.

    Long tables (CooRTweet's german_elections: one row per post x shared object) repeat a post
    once per URL or hashtag; keeping only the first row would silently lose the others. Scalars
    stay those of the first row; a repeat in another file, or of a post already stored, is only
    a duplicate. Fills temp table ``_merged`` and returns the staged files whose rows it changes.
    """
    sources = pa.table(
        {
            "filename": [str(f) for _, st in parts for f in st.files],
            "src": [i for i, (_, st) in enumerate(parts) for _ in st.files],
        }
    )
    con.register("_sources", sources)
    gathered = ", ".join(
        f"flatten(list({n} ORDER BY s.filename, s.file_row_number)) AS {n}" for n in _LIST_FIELDS
    )
    # First-seen order, each value once (list_distinct does not keep order).
    uniq = ", ".join(f"list_filter({n}, lambda x, i: list_position({n}, x) = i) AS {n}"
                     for n in _LIST_FIELDS)  # fmt: skip
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _merged AS
        SELECT k.filename, k.file_row_number, {uniq}
        FROM (
            SELECT src.src, s.platform, s.post_id, {gathered}
            FROM {staged} s JOIN _sources src ON src.filename = s.filename
            WHERE (s.platform, s.post_id) IN (SELECT platform, post_id FROM _keep)
            GROUP BY ALL HAVING count(*) > 1
        ) g
        JOIN _keep k ON k.platform = g.platform AND k.post_id = g.post_id
        JOIN _sources ks ON ks.filename = k.filename AND ks.src = g.src"""
    )
    con.unregister("_sources")
    rows = con.execute("SELECT DISTINCT filename FROM _merged").fetchall()
    return {str(r[0]) for r in rows}


def _dedupe_accounts(
    con: duckdb.DuckDBPyConnection,
    ws: Workspace,
    stage: Path,
    dataset: str,
    parts: list[tuple[FileResult, _Stager]],
    ingest_id: str,
) -> dict[Path, Path]:
    """One row per (platform, account_id): the most recent profile seen, if not stored yet."""
    files = [f for _, s in parts for f in s.files]
    if not files:
        return {}
    existing = ws.table_files("accounts", datasets=[dataset])
    exist_filter = (
        f"WHERE (platform, account_id) NOT IN "
        f"(SELECT platform, account_id FROM read_parquet({_files_sql(existing)}))"
        if existing
        else ""
    )
    out = stage / f"accounts-{ingest_id}.parquet"
    con.execute(
        f"""COPY (
            SELECT * EXCLUDE (rn, filename) FROM (
                SELECT *, row_number() OVER (PARTITION BY platform, account_id
                    ORDER BY statuses DESC NULLS LAST, filename DESC) AS rn
                FROM read_parquet({_files_sql(files)}, filename = true)
            ) {exist_filter} {"AND" if exist_filter else "WHERE"} rn = 1
        ) TO '{out}' (FORMAT parquet, COMPRESSION zstd)"""
    )
    per_file = con.execute(
        f"""SELECT filename, count(DISTINCT (platform, account_id))
        FROM read_parquet({_files_sql(files)}, filename = true) GROUP BY 1"""
    ).fetchall()
    counts = {Path(f): int(n) for f, n in per_file}
    for res, stager in parts:
        res.accounts = sum(counts.get(f, 0) for f in stager.files)
    n = pq.ParquetFile(out).metadata.num_rows
    if n == 0:
        return {}
    return {out: ws.path / "accounts" / dataset / out.name}


def check_input(path: Path) -> None:
    """Stop before reading when the path cannot be an input at all."""
    if not path.exists():
        raise InputError(str(path), "no such file")
    if path.is_dir():
        raise InputError(str(path), "is a directory; name the files to ingest")
    if path.stat().st_size == 0:
        raise InputError(str(path), "the file is empty; nothing to ingest")
