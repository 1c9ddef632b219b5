"""Small helpers to build SQL text safely."""

from __future__ import annotations

__all__ = ["sql_string"]


def sql_string(value: str) -> str:
    """``value`` as a SQL string literal (single quotes doubled), for DuckDB and Spark alike."""
    return "'" + value.replace("'", "''") + "'"
