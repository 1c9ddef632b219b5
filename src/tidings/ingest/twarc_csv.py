"""The CSV that twarc-csv (DocNow) writes from twarc2 output: one row per tweet, ~80 columns.

It is a CSV with known column names, so the generic CSV reader does the reading (blocks, line
numbers, ISO dates, JSON-array lists, quarantine with the column named) with the mapping below as
its defaults. What twarc-csv changed on the way is undone first, so that a tweet reads the same
from the CSV as from the JSON it came from:

- twarc-csv "merges" a retweet with its original: the ``text`` column holds the original's text
  (and ``entities.*``/``attachments.*`` its entities) when the original was in the page. The
  tweet becomes ``RT @<retweeted_username>: <text>``, and the original's author leads its
  mentions, as the JSON readers give it. A retweet whose original was missing keeps its own text.
- newlines inside values were written as the two characters ``\\n``; they are newlines again.
- ``entities.urls`` lists a photo's link as ``pic.twitter.com/…``: that is media, not a link.
- ``attachments.media`` holds the media objects: each gives its URL (a video's preview image).
- ``geo.coordinates.coordinates`` is GeoJSON ``[lon, lat]``.
- ``author.withheld.country_codes`` becomes the account's ``withheld_in``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import duckdb
import pyarrow as pa

from ._base import Chunk, ReadOptions
from .table import CsvReader, _Plan

__all__ = ["TwarcCsvReader"]

# Columns twarc-csv writes (its DEFAULT_TWEET_COLUMNS) that tidings reads.
_DEFAULTS: Mapping[str, str] = {
    "post_id": "id",
    "account_id": "author_id",
    "account_name": "author.username",
    "created_at": "created_at",
    "text": "_twarc_text",
    "lang": "lang",
    "source": "source",
    "repost_of": "referenced_tweets.retweeted.id",
    "reply_to": "referenced_tweets.replied_to.id",
    "quote_of": "referenced_tweets.quoted.id",
    "urls": "_twarc_urls",
    "hashtags": "entities.hashtags",
    "mentions": "_twarc_mentions",
    "media": "_twarc_media",
    "place_name": "geo.full_name",
    "lat": "_twarc_lat",
    "lon": "_twarc_lon",
    "withheld_in": "withheld.country_codes",
    "display_name": "author.name",
    "description": "author.description",
    "location": "author.location",
    "followers": "author.public_metrics.followers_count",
    "following": "author.public_metrics.following_count",
    "statuses": "author.public_metrics.tweet_count",
    "account_created_at": "author.created_at",
}
_MARKS = ("referenced_tweets.retweeted.id", "author.username", "__twarc.url")
"""Any of these beside id/author_id/created_at/text says the CSV came from twarc-csv."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _derived_sql(columns: set[str]) -> str:
    """SQL adding the ``_twarc_*`` columns to ``block`` (all strings, '' for empty)."""

    def col(name: str) -> str:
        return _q(name) if name in columns else "''"

    text = f"replace({col('text')}, '\\n', chr(10))"
    rt_name = col("retweeted_username")
    merged = f"({col('referenced_tweets.retweeted.id')} <> '' AND {rt_name} <> '')"
    mentions = col("entities.mentions")
    urls = col("entities.urls")
    media = col("attachments.media")
    keys = col("attachments.media_keys")
    xy = col("geo.coordinates.coordinates")

    def json_list(expr: str) -> str:
        return f"CASE WHEN json_valid({expr}) THEN from_json({expr}, '[\"VARCHAR\"]') END"

    media_objects = '[{"url": "VARCHAR", "preview_image_url": "VARCHAR", "media_key": "VARCHAR"}]'
    point = f"CASE WHEN json_valid({xy}) THEN from_json({xy}, '[\"DOUBLE\"]') END"
    media_list = f"CASE WHEN json_valid({media}) THEN from_json({media}, '{media_objects}') END"
    return f"""
        SELECT *,
            CASE WHEN {merged} THEN 'RT @' || {rt_name} || ': ' || {text} ELSE {text} END
                AS _twarc_text,
            CASE WHEN {merged} AND NOT coalesce(
                    lower({json_list(mentions)}[1]) = lower('@' || {rt_name}), false)
                THEN CAST(to_json(list_prepend('@' || {rt_name},
                    coalesce({json_list(mentions)}, []))) AS VARCHAR)
                ELSE {mentions} END
                AS _twarc_mentions,
            coalesce(CAST(to_json(list_filter({json_list(urls)},
                lambda u: NOT starts_with(u, 'pic.twitter.com/'))) AS VARCHAR), {urls})
                AS _twarc_urls,
            -- Media objects pair with media_keys by position; a key the page did not expand
            -- (a retweeted original's media) stays a key, as in the JSON.
            coalesce(CAST(to_json(list_transform(range(1, len({json_list(keys)}) + 1),
                lambda i: coalesce({media_list}[i].url, {media_list}[i].preview_image_url,
                    {json_list(keys)}[i]))) AS VARCHAR),
                {keys}) AS _twarc_media,
            coalesce(CAST({point}[2] AS VARCHAR), '') AS _twarc_lat,
            coalesce(CAST({point}[1] AS VARCHAR), '') AS _twarc_lon
        FROM block
    """


class TwarcCsvReader(CsvReader):
    """A CSV written by twarc-csv from Twitter API v2 tweets."""

    name: ClassVar[str] = "twarc-csv"
    label: ClassVar[str] = "twarc-csv CSV (Twitter API v2)"
    platform: ClassVar[str | None] = "twitter"
    defaults: ClassVar[Mapping[str, str]] = _DEFAULTS

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        if not CsvReader.sniff(path, head):
            return False
        first = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
        try:
            names = {n.strip() for n in next(csv.reader(io.StringIO(first, newline="")), [])}
        except csv.Error:
            return False
        return {"id", "author_id", "created_at", "text"} <= names and any(
            m in names for m in _MARKS
        )

    def __init__(self, path: Path, options: ReadOptions) -> None:
        super().__init__(path, options)
        self._derive = ""
        self._twarc_con: duckdb.DuckDBPyConnection | None = None

    def _prepare(self, columns: Mapping[str, pa.DataType], header_line: int | None) -> _Plan:
        self._derive = _derived_sql(set(columns))
        self._twarc_con = duckdb.connect(config={"threads": 1, "memory_limit": "512MB"})
        derived = {n: pa.string() for n in _DEFAULTS.values() if n.startswith("_twarc_")}
        return super()._prepare({**columns, **derived}, header_line)

    def _convert(self, block: pa.Table) -> Chunk:
        con = self._twarc_con
        assert con is not None, "_prepare runs first"
        con.register("block", block)
        undone = con.sql(self._derive).to_arrow_table()
        con.unregister("block")
        chunk = super()._convert(undone)
        withheld = "author.withheld.country_codes"
        if (
            chunk.accounts is not None
            and chunk.accounts.num_rows
            and withheld in block.column_names
        ):
            # Generic tables have no column for an account's withheld countries; twarc-csv has.
            con.register("acc", chunk.accounts)
            con.register("block", block.select(["author_id", withheld]))
            chunk.accounts = con.sql(
                f"""SELECT acc.*, w.withheld_in FROM acc LEFT JOIN (
                    SELECT DISTINCT ON (author_id) author_id,
                        from_json({_q(withheld)}, '["VARCHAR"]') AS withheld_in
                    FROM block WHERE json_valid({_q(withheld)})) w
                ON w.author_id = acc.account_id"""
            ).to_arrow_table()
            con.unregister("acc")
            con.unregister("block")
        return chunk

    def _close(self) -> None:
        if self._twarc_con is not None:
            self._twarc_con.close()
            self._twarc_con = None
        super()._close()
