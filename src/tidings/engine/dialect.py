"""One SQL, two engines: DuckDB SQL as written, transpiled by sqlglot for Spark.

Analyses are written once in the DuckDB dialect. sqlglot translates syntax (lambdas, list
functions, ``//``, ``regexp_extract`` groups, string escapes); what it cannot know is where the
two engines *mean* different things by the same words. Those few places go through portable
functions defined here, as DuckDB macros on one side and Spark built-ins on the other:

================  ==============================================  ==========================
portable          DuckDB                                          Spark
================  ==============================================  ==========================
strong_hash(x)    63 bits of md5 (``md5_number_upper(x) >> 1``)   ``xxhash64(x)``
epoch_us(ts)      ``epoch_us(ts)`` (built in)                     ``unix_micros(ts)``
log10(x)          ``log10(x)``                                    ``log10(x)`` (not ``log(10, x)``,
                                                                  which rounds differently)
quantile_disc     ``quantile_disc(x, q)``                         ``percentile_disc(q) WITHIN
                                                                  GROUP (ORDER BY x)``
================  ==============================================  ==========================

Why each matters (measured in the engine study, DESIGN §5): DuckDB's ``hash()`` is a weak
64-bit hash (331,519 URLs gave 327,869 values) and sqlglot maps it to Spark's 32-bit
``hash()``; DuckDB's ``UBIGINT`` does not exist on Spark, so hashes are kept to 63 bits and
signed. Hash values differ between engines; they are only ever compared within one run, never
written out.

Two DuckDB habits are refused rather than silently changed: ``regexp_replace`` without the
``'g'`` flag replaces the first match on DuckDB but every match on Spark, so it is allowed only
for patterns anchored with ``^``; and ordered aggregates (``list(x ORDER BY y)``) lose their
order on Spark.
"""

from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp

__all__ = ["DUCKDB_MACROS", "DialectError", "to_spark"]

DUCKDB_MACROS: tuple[str, ...] = (
    "CREATE OR REPLACE TEMP MACRO strong_hash(x) AS "
    "CAST(md5_number_upper(CAST(x AS VARCHAR)) >> 1 AS BIGINT)",
)
"""Macros that make the portable functions exist on DuckDB (run once per connection)."""


class DialectError(ValueError):
    """The SQL uses a construct whose meaning differs between DuckDB and Spark."""


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        args = node.expressions
        if name == "strong_hash":
            return exp.Anonymous(this="XXHASH64", expressions=args)
        if name == "epoch_us":
            return exp.Anonymous(this="UNIX_MICROS", expressions=args)
        if name == "md5_number_upper":
            raise DialectError("use strong_hash(x), not md5_number_upper(x), in portable SQL")
    if isinstance(node, exp.Log) and node.expression is not None:
        base = node.this
        if isinstance(base, exp.Literal) and base.this == "10":
            return exp.Anonymous(this="LOG10", expressions=[node.expression])
    if isinstance(node, exp.PercentileDisc) and node.expression is not None:
        return exp.WithinGroup(
            this=exp.Anonymous(this="PERCENTILE_DISC", expressions=[node.expression]),
            expression=exp.Order(expressions=[exp.Ordered(this=node.this, nulls_first=True)]),
        )
    if isinstance(node, exp.RegexpReplace):
        mods = node.args.get("modifiers")
        global_flag = isinstance(mods, exp.Literal) and "g" in mods.this
        pattern = node.expression
        anchored = isinstance(pattern, exp.Literal) and pattern.this.startswith("^")
        if not global_flag and not anchored:
            raise DialectError(
                f"regexp_replace without 'g' replaces one match on DuckDB and all on Spark: "
                f"{node.sql('duckdb')}"
            )
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        raise DialectError(f"ordered aggregate loses its order on Spark: {node.sql('duckdb')}")
    if isinstance(node, exp.Anonymous) and node.name.lower() == "hash":
        raise DialectError("hash() is weak on DuckDB and 32-bit on Spark; use strong_hash(x)")
    return node


@functools.lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """``sql`` (DuckDB dialect, portable functions allowed) as Spark SQL."""
    statements = sqlglot.parse(sql, read="duckdb")
    out = []
    for stmt in statements:
        if stmt is None:
            continue
        out.append(stmt.transform(_rewrite).sql(dialect="spark"))
    if len(out) != 1:
        raise DialectError(f"expected one statement, got {len(out)}")
    return out[0]
