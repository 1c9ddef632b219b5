"""A workspace: a directory of canonical Parquet tables plus a DuckDB catalog (DESIGN §2).

Why this shape: Parquet is the truth, so any engine (DuckDB here, Spark on a cluster) can read
the tables without going through tidings; the catalog holds what is small and transactional
(datasets, ingests, runs, quarantine, audit log). Every write is staged under ``.staging/`` and
published by rename inside one catalog transaction, so a failed or interrupted command leaves the
workspace exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from . import schema
from ._version import __version__
from .errors import WorkspaceError

__all__ = ["Run", "Workspace"]

TABLES = ("posts", "accounts", "media", "measurements", "series")
_TABLE_SCHEMAS: dict[str, pa.Schema] = {"posts": schema.POSTS, "accounts": schema.ACCOUNTS}

_CATALOG_DDL = """
CREATE TABLE IF NOT EXISTS settings (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS datasets (
    name VARCHAR PRIMARY KEY, created_at TIMESTAMPTZ, description VARCHAR);
CREATE TABLE IF NOT EXISTS ingests (
    ingest_id VARCHAR PRIMARY KEY, dataset VARCHAR, path VARCHAR, format VARCHAR,
    read BIGINT, stored BIGINT, duplicates BIGINT, quarantined BIGINT, accounts BIGINT,
    derived_ids BIGINT, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, files VARCHAR[]);
CREATE TABLE IF NOT EXISTS quarantine (
    ingest_id VARCHAR, dataset VARCHAR, file VARCHAR, record BIGINT, field VARCHAR,
    reason VARCHAR, raw VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, kind VARCHAR, params JSON, inputs JSON, version VARCHAR,
    engine VARCHAR, out_dir VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
    status VARCHAR, summary JSON);
CREATE TABLE IF NOT EXISTS audit_log (
    "at" TIMESTAMPTZ, who VARCHAR, action VARCHAR, detail JSON);
"""


def _default_memory_limit() -> str:
    """Half the machine's memory, at most 12 GB (DESIGN §5).

    The other half stays with the OS and Python. At 6 GB a 10M-post coordination run spills its
    pair aggregation to disk and takes longer; the cap keeps a 50M-post run within 16 GB even on
    machines with much more memory (docs/benchmarks.md).
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return "4GB"
    gb = max(1, min(12, int(total / 2**30 / 2)))
    return f"{gb}GB"


def _now() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """A sortable, unique id: time first so that listings come out in order."""
    return f"{prefix}-{_now().strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


@dataclass
class Run:
    """One analysis run: its parameters, inputs and outputs are recorded in the catalog."""

    workspace: Workspace
    run_id: str
    kind: str
    out_dir: Path
    params: dict[str, Any]
    engine: str
    started_at: datetime = field(default_factory=_now)
    summary: dict[str, Any] = field(default_factory=dict)


class Workspace:
    """A tidings workspace on disk.

    >>> ws = Workspace.init("ws")            # doctest: +SKIP
    >>> ws.connect().sql("select count(*) from posts").fetchall()   # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not (self.path / "catalog.duckdb").is_file():
            raise WorkspaceError(
                f"{self.path}: not a tidings workspace (no catalog.duckdb); "
                f"create one with `tidings init {self.path}`"
            )
        self._clean_stale_staging()

    # -- creation -------------------------------------------------------------------------
    @classmethod
    def init(cls, path: str | os.PathLike[str], *, exist_ok: bool = True) -> Workspace:
        """Create an empty workspace at ``path`` (or open it if it already is one)."""
        p = Path(path)
        if (p / "catalog.duckdb").is_file():
            if not exist_ok:
                raise WorkspaceError(f"{p}: already a workspace")
            return cls(p)
        if p.exists() and any(p.iterdir()):
            raise WorkspaceError(f"{p}: directory is not empty and is not a workspace")
        p.mkdir(parents=True, exist_ok=True)
        for table in (*TABLES, "runs"):
            (p / table).mkdir(exist_ok=True)
        tmp = p / ".catalog.duckdb.tmp"
        tmp.unlink(missing_ok=True)
        con = duckdb.connect(str(tmp))
        try:
            con.execute(_CATALOG_DDL)
            con.execute(
                "INSERT INTO settings VALUES ('memory_limit', ?), ('temp_directory', ?), "
                "('threads', ?), ('created_by', ?)",
                [_default_memory_limit(), ".tmp", str(os.cpu_count() or 2), __version__],
            )
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, p / "catalog.duckdb")
        return cls(p)

    # -- settings -------------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, str]:
        with self.catalog(read_only=True) as con:
            rows = con.execute("SELECT key, value FROM settings").fetchall()
        values = dict(rows)
        for key, env in (("memory_limit", "TIDINGS_MEMORY_LIMIT"), ("threads", "TIDINGS_THREADS")):
            if os.environ.get(env):
                values[key] = os.environ[env]
        return values

    def set(self, key: str, value: str) -> None:
        """Change a setting (memory_limit, temp_directory, threads)."""
        with self.catalog() as con:
            con.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", [key, value])
            self._audit(con, "set", {key: value})

    @property
    def temp_dir(self) -> Path:
        p = Path(self.settings.get("temp_directory", ".tmp"))
        return p if p.is_absolute() else self.path / p

    # -- connections ----------------------------------------------------------------------
    @contextlib.contextmanager
    def catalog(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The catalog, in one transaction: committed on success, rolled back on error."""
        try:
            con = duckdb.connect(str(self.path / "catalog.duckdb"), read_only=read_only)
        except duckdb.IOException as exc:
            raise WorkspaceError(f"{self.path}: the catalog is in use ({exc})") from None
        try:
            if read_only:
                yield con
                return
            con.execute("BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    def connect(
        self, *, memory_limit: str | None = None, threads: int | None = None
    ) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with views ``posts`` and ``accounts`` over the workspace tables.

        It runs with an explicit memory limit and spills to a temp directory inside the
        workspace, so a large collection slows down instead of dying.
        """
        s = self.settings
        tmp = self.temp_dir
        tmp.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(
            config={
                "memory_limit": memory_limit or s["memory_limit"],
                "temp_directory": str(tmp),
                "threads": int(threads or s.get("threads") or 2),
                "preserve_insertion_order": False,
            }
        )
        for table in ("posts", "accounts"):
            self.register_view(con, table)
        return con

    def register_view(
        self, con: duckdb.DuckDBPyConnection, table: str, *, datasets: list[str] | None = None
    ) -> None:
        """(Re)define view ``table`` over its Parquet files, or over an empty typed table."""
        files = self.table_files(table, datasets=datasets)
        if files:
            listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
            con.execute(
                f"CREATE OR REPLACE VIEW {table} AS "
                f"SELECT * FROM read_parquet([{listing}], union_by_name = true)"
            )
        elif table in _TABLE_SCHEMAS:
            con.register(f"_empty_{table}", _TABLE_SCHEMAS[table].empty_table())
            con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM _empty_{table}")

    # -- tables ---------------------------------------------------------------------------
    def table_files(self, table: str, *, datasets: list[str] | None = None) -> list[Path]:
        """The Parquet files of ``table``, optionally for some datasets only."""
        root = self.path / table
        if not root.is_dir():
            return []
        dirs = [root / d for d in datasets] if datasets else sorted(root.iterdir())
        return sorted(f for d in dirs if d.is_dir() for f in d.glob("*.parquet"))

    def datasets(self) -> list[str]:
        with self.catalog(read_only=True) as con:
            return [r[0] for r in con.execute("SELECT name FROM datasets ORDER BY name").fetchall()]

    # -- atomic writes --------------------------------------------------------------------
    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A private directory for files that are not published yet; removed afterwards."""
        d = self.path / ".staging" / uuid.uuid4().hex
        d.mkdir(parents=True)
        try:
            yield d
        finally:
            shutil.rmtree(d, ignore_errors=True)

    @contextlib.contextmanager
    def publish(self, moves: Mapping[Path, Path]) -> Iterator[duckdb.DuckDBPyConnection]:
        """Rename staged files into place and commit catalog changes, all or nothing.

        The caller records its catalog rows inside the ``with`` block; if that raises, or a
        rename fails, renamed files are moved back and the transaction is rolled back.
        """
        done: list[tuple[Path, Path]] = []
        with self.catalog() as con:
            try:
                yield con
                for src, dst in moves.items():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    if dst.exists():
                        raise WorkspaceError(f"{dst}: already exists; refusing to overwrite")
                    os.replace(src, dst)
                    done.append((src, dst))
            except BaseException:
                for src, dst in reversed(done):
                    os.replace(dst, src)
                raise

    def _clean_stale_staging(self) -> None:
        staging = self.path / ".staging"
        if staging.is_dir():
            for d in staging.iterdir():
                shutil.rmtree(d, ignore_errors=True)

    # -- runs -----------------------------------------------------------------------------
    def start_run(
        self,
        kind: str,
        params: Mapping[str, Any],
        *,
        out_dir: str | os.PathLike[str] | None = None,
        engine: str = "duckdb",
    ) -> Run:
        """Begin an analysis run; outputs go to ``out_dir`` (default ``runs/<run-id>/``)."""
        run_id = new_id(kind)
        out = Path(out_dir) if out_dir is not None else self.path / "runs" / run_id
        out.mkdir(parents=True, exist_ok=True)
        run = Run(self, run_id, kind, out, dict(params), engine)
        inputs = {t: [str(f.relative_to(self.path)) for f in self.table_files(t)] for t in TABLES}
        with self.catalog() as con:
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 'running', NULL)",
                [
                    run_id,
                    kind,
                    json.dumps(run.params, default=str),
                    json.dumps({k: v for k, v in inputs.items() if v}),
                    __version__,
                    engine,
                    str(out),
                    run.started_at,
                ],
            )
        return run

    def finish_run(self, run: Run, *, status: str = "ok") -> None:
        with self.catalog() as con:
            con.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?",
                [_now(), status, json.dumps(run.summary, default=str), run.run_id],
            )

    def runs(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Recorded runs, newest first."""
        with self.catalog(read_only=True) as con:
            rel = con.execute(
                "SELECT * FROM runs WHERE ? IS NULL OR kind = ? ORDER BY started_at DESC",
                [kind, kind],
            )
            cols = [d[0] for d in rel.description]
            return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]

    # -- audit ----------------------------------------------------------------------------
    @staticmethod
    def _audit(con: duckdb.DuckDBPyConnection, action: str, detail: Mapping[str, Any]) -> None:
        who = os.environ.get("TIDINGS_USER") or os.environ.get("USER") or "unknown"
        con.execute(
            "INSERT INTO audit_log VALUES (?, ?, ?, ?)",
            [_now(), who, action, json.dumps(detail, default=str)],
        )

    def audit(self, action: str, detail: Mapping[str, Any]) -> None:
        """Append to the audit log (who, when, what)."""
        with self.catalog() as con:
            self._audit(con, action, detail)
