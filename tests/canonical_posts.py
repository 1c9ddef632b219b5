"""Canonical posts for tests: the content columns readers fill, and a table builder."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from tidings import schema

CONTENT_FIELDS = [
    "post_id",
    "account_id",
    "account_name",
    "created_at",
    "text",
    "lang",
    "kind",
    "repost_of",
    "reply_to",
    "quote_of",
    "urls",
    "hashtags",
    "mentions",
    "media",
    "source",
    "place_name",
    "lat",
    "lon",
    "withheld_in",
]
"""The post columns a reader fills from the input itself (not dataset, raw or ingest ids)."""


def posts_table(rows: dict[str, list[Any]]) -> pa.Table:
    """Canonical posts from a few columns (``ts`` in epoch seconds); the others are empty."""
    n = len(rows["post_id"])
    cols = {}
    for f in schema.POSTS:
        if f.name == "created_at":
            ts = np.asarray(rows["ts"], dtype=np.float64)
            cols[f.name] = pa.array((ts * 1e6).astype(np.int64), f.type)
        elif f.name in rows:
            cols[f.name] = pa.array(rows[f.name], f.type)
        elif f.name == "dataset":
            cols[f.name] = pa.array(["test"] * n, f.type)
        elif pa.types.is_list(f.type):
            cols[f.name] = pa.array([[] for _ in range(n)], f.type)
        else:
            cols[f.name] = pa.nulls(n, f.type)
    return pa.table(cols, schema=schema.POSTS)
