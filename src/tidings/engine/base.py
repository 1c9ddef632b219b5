"""What an engine must do for the analyses: run DuckDB-dialect SQL, hold intermediate tables,
hand tables to Python as Arrow, and run a vectorised Python step over Arrow batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

__all__ = ["BatchFn", "Engine"]

BatchFn = Callable[[pa.RecordBatch], pa.RecordBatch]
"""A vectorised step: one Arrow batch in, one out (any number of rows, a fixed schema)."""


class Engine(Protocol):
    """The operations analyses use; SQL is always written in the DuckDB dialect."""

    name: str
    """``"duckdb"`` or ``"spark"``."""

    def register_parquet(self, name: str, files: Sequence[Path]) -> None:
        """Make view ``name`` over Parquet ``files`` (columns unified by name)."""

    def register_arrow(self, name: str, table: pa.Table) -> None:
        """Make ``table`` queryable as ``name``."""

    def view(self, name: str, sql: str) -> None:
        """Define view ``name`` (recomputed at each use)."""

    def materialize(self, name: str, sql: str) -> int:
        """Compute ``sql`` once and keep it as table ``name``; return its row count.

        Spark would otherwise recompute a CTE or view at every reference (engine study §2).
        """

    def arrow(self, sql: str) -> pa.Table:
        """The result of ``sql`` as an Arrow table in this process."""

    def scalar(self, sql: str) -> Any:
        """The single value ``sql`` returns."""

    def map_batches(
        self,
        name: str,
        sql: str,
        fn: BatchFn,
        schema: pa.Schema,
        *,
        finalize: Callable[[pa.Table], pa.Table] | None = None,
    ) -> int:
        """Run ``fn`` over the Arrow batches of ``sql`` and keep the output as table ``name``.

        ``finalize`` may shrink the collected output on engines that collect it in this process
        (DuckDB); it must not change any later result (for example, drop keys seen once).
        Returns the row count of ``name``.
        """

    def drop(self, name: str) -> None:
        """Forget table or view ``name`` (and free its memory)."""

    def close(self) -> None:
        """Release what this engine holds."""
