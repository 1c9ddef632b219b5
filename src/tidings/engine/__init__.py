"""Engines: where the analyses' SQL runs (DESIGN §1, §5).

Analyses are written once, as SQL in the DuckDB dialect plus small vectorised Python steps over
Arrow batches, against the :class:`Engine` protocol. :class:`DuckDBEngine` runs them embedded
(the default: fast on one machine, spills at its memory limit); :class:`SparkEngine` runs the
same SQL, transpiled by sqlglot with a small function map (:mod:`tidings.engine.dialect`), on a
Spark session, local or a cluster.
"""

from __future__ import annotations

from typing import Any

from ..errors import TidingsError
from ..workspace import Workspace
from .base import BatchFn, Engine
from .dialect import DialectError, to_spark
from .duckdb import DuckDBEngine
from .spark import SparkEngine

__all__ = [
    "BatchFn",
    "DialectError",
    "DuckDBEngine",
    "Engine",
    "SparkEngine",
    "open_engine",
    "to_spark",
]

ENGINES = ("duckdb", "spark")


def open_engine(name: str, workspace: Workspace, **options: Any) -> Engine:
    """An engine by name, for ``workspace``; ``options`` go to the engine's constructor
    (``memory_limit``/``threads`` for DuckDB; ``master``, ``driver_memory``, … for Spark)."""
    if name == "duckdb":
        return DuckDBEngine.for_workspace(workspace, **options)
    if name == "spark":
        try:
            import pyspark  # noqa: F401  (only to give a clear message when it is missing)
        except ImportError:
            raise TidingsError(
                "the spark engine needs pyspark: pip install 'tidings[spark]'"
            ) from None
        return SparkEngine(**options)
    raise TidingsError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")
