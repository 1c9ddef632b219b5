"""The embedded engine: DuckDB over the workspace's Parquet, with a hard memory limit."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..workspace import Workspace
from .base import BatchFn
from .dialect import DUCKDB_MACROS

__all__ = ["DuckDBEngine"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DuckDBEngine:
    """Runs analyses on a DuckDB connection (by default a workspace's, see
    :meth:`Workspace.connect`: explicit memory limit, spills to the workspace's temp dir).

    Vectorised Python steps run over record batches in a small thread pool: numpy releases the
    GIL in its kernels, so two threads use both cores of a small machine.
    """

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, *, batch_rows: int = 1 << 17) -> None:
        self.con = con
        self.batch_rows = batch_rows
        self._registered: set[str] = set()
        for macro in DUCKDB_MACROS:
            con.execute(macro)
        self.threads = int(self.scalar("SELECT current_setting('threads')") or 1)

    @classmethod
    def for_workspace(
        cls, workspace: Workspace, *, memory_limit: str | None = None, threads: int | None = None
    ) -> DuckDBEngine:
        return cls(workspace.connect(memory_limit=memory_limit, threads=threads))

    def register_parquet(self, name: str, files: Sequence[Path]) -> None:
        listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {_quote(name)} AS "
            f"SELECT * FROM read_parquet([{listing}], union_by_name = true)"
        )

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)
        self._registered.add(name)

    def view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {_quote(name)} AS {sql}")

    def materialize(self, name: str, sql: str) -> int:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {_quote(name)} AS {sql}")
        return int(self.scalar(f"SELECT count(*) FROM {_quote(name)}"))

    def arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def scalar(self, sql: str) -> Any:
        rows = self.con.execute(sql).fetchall()
        return rows[0][0] if rows else None

    def map_batches(
        self,
        name: str,
        sql: str,
        fn: BatchFn,
        schema: pa.Schema,
        *,
        finalize: Callable[[pa.Table], pa.Table] | None = None,
    ) -> int:
        reader = self.con.sql(sql).to_arrow_reader(self.batch_rows)
        workers = max(1, min(self.threads, os.cpu_count() or 1))
        outputs: list[pa.RecordBatch] = []
        with ThreadPoolExecutor(max_workers=workers) as pool:
            # At most two batches per worker in flight: memory stays bounded by the batch size.
            pending: list[Future[pa.RecordBatch]] = []
            for batch in reader:
                pending.append(pool.submit(fn, batch))
                if len(pending) >= 2 * workers:
                    outputs.append(pending.pop(0).result())
            outputs.extend(f.result() for f in pending)
        table = pa.Table.from_batches(outputs, schema=schema)
        if finalize is not None:
            table = finalize(table)
        self.drop(name)
        self.register_arrow(name, table)
        return int(table.num_rows)

    def drop(self, name: str) -> None:
        if name in self._registered:
            self.con.unregister(name)
            self._registered.discard(name)
        kind = self.scalar(
            "SELECT CASE WHEN table_type = 'VIEW' THEN 'VIEW' ELSE 'TABLE' END "
            "FROM information_schema.tables WHERE table_name = "
            "'" + name.replace("'", "''") + "' AND table_schema = 'main' "
            "AND table_catalog = 'temp'"
        )
        if kind:
            self.con.execute(f"DROP {kind} {_quote(name)}")

    def close(self) -> None:
        self.con.close()
