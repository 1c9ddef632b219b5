"""What a reader is: a format's parser that turns one input file into canonical chunks.

Readers know formats; the pipeline (``_pipeline.py``) knows the workspace. A reader streams:
it yields :class:`Chunk` objects of bounded size, so a 10M-row file never sits in memory.
It raises :class:`~tidings.errors.InputError` *before its first chunk* when the whole file
cannot be read as asked (empty, wrong format, a required column missing), and reports
record-level trouble (a truncated line, a bad date) as :class:`Problem` rows instead, so that one
bad record costs one record, not the file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import pyarrow as pa

__all__ = ["Chunk", "Problem", "ReadOptions", "Reader"]


@dataclass(frozen=True)
class ReadOptions:
    """What the user told ``tidings ingest`` about the input."""

    column_map: dict[str, str] = field(default_factory=dict)
    """Canonical field -> source column (``--map field=column``)."""
    timezone: str = "UTC"
    """Zone of naive timestamps in the input."""
    platform: str | None = None
    """Overrides the reader's platform (for generic tables)."""


@dataclass(frozen=True)
class Problem:
    """One record that cannot be stored, and why."""

    record: int
    field: str | None
    reason: str
    raw: str | None = None


@dataclass
class Chunk:
    """Part of one file, in canonical columns.

    ``posts`` and ``accounts`` carry any subset of the canonical columns (missing ones become
    null) plus ``_record``: the line (line-based formats) or record number of each row, so that
    the pipeline's own validation can point at it.
    """

    posts: pa.Table | None = None
    accounts: pa.Table | None = None
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0
    """Records read and deliberately not stored because they are not posts (Telegram service
    messages, Twitter delete notices): counted in the summary, not quarantined."""


class Reader(ABC):
    """Base class of every format reader.

    Subclasses set ``name`` (the ``--format`` value), ``label`` (what ``auto`` says it chose),
    ``platform`` and ``numbering``, and implement :meth:`sniff` and :meth:`read`.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    platform: ClassVar[str | None] = None
    numbering: ClassVar[Literal["line", "record"]] = "record"

    def __init__(self, path: Path, options: ReadOptions) -> None:
        self.path = path
        self.options = options

    @classmethod
    @abstractmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        """Whether ``head`` (the first 64 KiB of the file) looks like this format."""

    @abstractmethod
    def read(self) -> Iterator[Chunk]:
        """Yield the file's content in chunks of bounded size."""
