"""CooRTweet-style long tables: one row per share of an object (``object_id, account_id,
content_id, timestamp_share``), the input format of the CooRTweet R package.

Each row is a post (``content_id``) by an account at a time that shares an object. By default the
object becomes ``repost_of``, because that is what CooRTweet's own examples share (the retweeted
tweet) and because co-repost detection then works on it unchanged; ``--map`` sends it elsewhere
(``--map urls=object_id`` for link sharing, ``--map hashtags=object_id`` for hashtags), and any
other column is mapped as in a generic CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from .table import CsvReader

__all__ = ["CoorTweetReader"]

COLUMNS = ("object_id", "account_id", "content_id", "timestamp_share")


class CoorTweetReader(CsvReader):
    """A CSV whose header has CooRTweet's four columns."""

    name: ClassVar[str] = "coortweet"
    label: ClassVar[str] = "CooRTweet long table (object_id -> repost_of)"
    defaults: ClassVar[Mapping[str, str]] = {
        "post_id": "content_id",
        "repost_of": "object_id",
        "created_at": "timestamp_share",
    }

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        if not CsvReader.sniff(path, head):
            return False
        first = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
        try:
            names = next(csv.reader(io.StringIO(first, newline="")), [])
        except csv.Error:
            return False
        return set(COLUMNS) <= {n.strip() for n in names}
