"""The distributed engine: the same DuckDB-dialect SQL, transpiled by sqlglot, on Apache Spark.

It is for collections beyond one machine: on a laptop, Spark ``local[*]`` is 7-9x slower than
DuckDB (engine study §2), but the same analysis then runs unchanged on a cluster by passing
``master`` (``spark://host:7077``, ``yarn``, ``k8s://…``) or an existing ``SparkSession``.

Three settings are not optional (engine study pitfall 5): the driver's memory is fixed when
its JVM starts, so it is set here, before; the console progress bar, which would interleave
with tidings' own, is off; and every intermediate table is cached, because Spark would
otherwise recompute a view (and re-read Parquet, and re-run its regular expressions) at every
reference to it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from .base import BatchFn
from .dialect import to_spark

__all__ = ["SparkEngine"]

_SPARK_TYPES = {
    pa.int64(): "BIGINT",
    pa.int32(): "INT",
    pa.float64(): "DOUBLE",
    pa.string(): "STRING",
    pa.large_string(): "STRING",
    pa.bool_(): "BOOLEAN",
}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # PySpark warns about pandas 3 whenever it touches its pandas bridge, which tidings does
    # not use (Arrow goes straight through); the warning would only alarm users.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        yield


def _ddl(schema: pa.Schema) -> str:
    cols = []
    for field in schema:
        if field.type not in _SPARK_TYPES:
            raise TypeError(f"no Spark type for {field.name}: {field.type}")
        cols.append(f"`{field.name}` {_SPARK_TYPES[field.type]}")
    return ", ".join(cols)


class SparkEngine:
    """Runs analyses on a Spark session (``local[*]`` unless told otherwise).

    Parameters
    ----------
    master:
        Spark master URL; ignored when ``session`` is given.
    driver_memory:
        Memory of the driver JVM (``spark.driver.memory``), applied at start-up.
    shuffle_partitions:
        ``spark.sql.shuffle.partitions``; the default (4 × cores in local mode, Spark's 200
        otherwise) suits one machine, where 200 tiny tasks cost more than they save.
    config:
        Any further Spark settings.
    session:
        An existing ``SparkSession`` to use instead of starting one.
    """

    name = "spark"

    def __init__(
        self,
        master: str = "local[*]",
        *,
        driver_memory: str = "4g",
        shuffle_partitions: int | None = None,
        config: dict[str, str] | None = None,
        session: Any = None,
    ) -> None:
        self._cached: dict[str, Any] = {}
        if session is None:
            session = self._start(master, driver_memory, shuffle_partitions, config or {})
        self.spark = session

    @staticmethod
    def _start(
        master: str, driver_memory: str, shuffle_partitions: int | None, config: dict[str, str]
    ) -> Any:
        # Python workers (for the vectorised steps) must run this interpreter, with its packages.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        from pyspark.sql import SparkSession

        if shuffle_partitions is None and master.startswith("local"):
            shuffle_partitions = 4 * (os.cpu_count() or 2)
        settings = {
            "spark.driver.memory": driver_memory,
            "spark.ui.showConsoleProgress": "false",
            "spark.ui.enabled": "false",
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            "spark.driver.extraJavaOptions": "-Dlog4j.rootLogger=ERROR",
            "spark.sql.maxPlanStringLength": "100000",
        }
        if shuffle_partitions:
            settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
        settings.update(config)
        builder = SparkSession.builder.master(master).appName("tidings")
        for key, value in settings.items():
            builder = builder.config(key, value)
        with _quiet():
            spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        return spark

    def _df(self, sql: str) -> Any:
        with _quiet():
            return self.spark.sql(to_spark(sql))

    def register_parquet(self, name: str, files: Sequence[Path]) -> None:
        with _quiet():
            df = self.spark.read.option("mergeSchema", "true").parquet(*[str(f) for f in files])
        df.createOrReplaceTempView(name)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self.drop(name)
        with _quiet():
            df = self.spark.createDataFrame(table).persist()
            df.count()
        self._cached[name] = df
        df.createOrReplaceTempView(name)

    def view(self, name: str, sql: str) -> None:
        self._df(sql).createOrReplaceTempView(name)

    def materialize(self, name: str, sql: str) -> int:
        self.drop(name)
        with _quiet():
            # A local checkpoint keeps the rows and cuts the lineage: a persisted view would
            # carry every earlier query's plan along, and the plan strings of a long analysis
            # (normalisers inlined several levels deep) exhaust the driver's memory.
            df = self._df(sql).localCheckpoint(eager=True)
            n = int(df.count())
        self._cached[name] = df
        df.createOrReplaceTempView(name)
        return n

    def arrow(self, sql: str) -> pa.Table:
        with _quiet():
            table: pa.Table = self._df(sql).toArrow()
        return table

    def scalar(self, sql: str) -> Any:
        with _quiet():
            rows = self._df(sql).collect()
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
        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                yield fn(batch)

        self.drop(name)
        with _quiet():
            df = self._df(sql).mapInArrow(run, _ddl(schema)).localCheckpoint(eager=True)
            n = int(df.count())
        self._cached[name] = df
        df.createOrReplaceTempView(name)
        return n

    def drop(self, name: str) -> None:
        df = self._cached.pop(name, None)
        if df is not None:
            df.unpersist()
        self.spark.catalog.dropTempView(name)

    def close(self) -> None:
        for name in list(self._cached):
            self.drop(name)
