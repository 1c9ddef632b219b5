"""The canonical tables every reader writes and every analysis reads (DESIGN §3).

One schema per table, as Arrow types, so that a reader, the validator, the Parquet files and the
engines agree on names and types without a translation layer. Columns beyond these are welcome
in later versions; these never change meaning.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = [
    "ACCOUNTS",
    "ACCOUNT_REQUIRED",
    "POSTS",
    "POST_KINDS",
    "POST_REQUIRED",
    "QUARANTINE",
    "empty_table",
]

_TS = pa.timestamp("us", tz="UTC")
_STRINGS = pa.list_(pa.string())

POSTS = pa.schema(
    [
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("platform", pa.string()),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("account_name", pa.string()),
        pa.field("created_at", _TS, nullable=False),
        pa.field("text", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("repost_of", pa.string()),
        pa.field("reply_to", pa.string()),
        pa.field("quote_of", pa.string()),
        pa.field("urls", _STRINGS),
        pa.field("hashtags", _STRINGS),
        pa.field("mentions", _STRINGS),
        pa.field("media", _STRINGS),
        pa.field("source", pa.string()),
        pa.field("place_name", pa.string()),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        # Country codes where the platform withheld the post (Twitter v2 `withheld`): a state
        # takedown is itself a signal of interference, so it is kept, not dropped.
        pa.field("withheld_in", _STRINGS),
        pa.field("dataset", pa.string()),
        pa.field("raw", pa.string()),
    ]
)
"""One row per post. ``post_id`` is unique within (platform, dataset)."""

POST_REQUIRED = ("post_id", "account_id", "created_at")
POST_KINDS = ("post", "repost", "reply", "quote")

ACCOUNTS = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("platform", pa.string()),
        pa.field("account_name", pa.string()),
        pa.field("display_name", pa.string()),
        pa.field("description", pa.string()),
        pa.field("location", pa.string()),
        pa.field("created_at", _TS),
        pa.field("followers", pa.int64()),
        pa.field("following", pa.int64()),
        pa.field("statuses", pa.int64()),
        pa.field("withheld_in", _STRINGS),
        pa.field("dataset", pa.string()),
    ]
)
"""One row per account and dataset: the profile as the collection saw it."""

ACCOUNT_REQUIRED = ("account_id",)

QUARANTINE = pa.schema(
    [
        pa.field("ingest_id", pa.string()),
        pa.field("dataset", pa.string()),
        pa.field("file", pa.string()),
        pa.field("record", pa.int64()),
        pa.field("field", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("raw", pa.string()),
    ]
)
"""A record that failed validation: where it was (file, line or record number), which field
and why. Stored in the catalog so that nothing a reader saw is silently dropped."""


def empty_table(schema: pa.Schema) -> pa.Table:
    """A table with ``schema`` and no rows."""
    return schema.empty_table()
