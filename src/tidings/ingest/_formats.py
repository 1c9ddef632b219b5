"""Imports every reader module so that each registers itself, in ``auto``'s order of trying."""

from __future__ import annotations

from . import register_reader
from .coortweet import CoorTweetReader
from .table import CsvReader, ParquetReader
from .telegram import TelegramReader
from .twarc_csv import TwarcCsvReader
from .twitter_v1 import TwitterV1Reader
from .twitter_v2 import TwitterV2Reader

# Specific formats first; the generic tables last, as they accept any CSV or Parquet.
register_reader(TelegramReader)
register_reader(TwitterV1Reader, aliases=("twitter",))
register_reader(TwitterV2Reader, aliases=("twitter",))
register_reader(TwarcCsvReader, aliases=("csv",))
register_reader(CoorTweetReader, aliases=("csv",))
register_reader(ParquetReader, aliases=("parquet",))
register_reader(CsvReader, aliases=("csv",))
