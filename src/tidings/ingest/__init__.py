"""Ingest: read any collection into the canonical tables of a workspace.

``ingest(ws, paths, format="auto")`` picks a reader per file (``auto`` sniffs the content and says
what it chose), streams it through validation into staged Parquet, and publishes everything in one
step. Readers live one per format in this folder; :data:`READERS` is the registry.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import InputError
from ..workspace import Workspace
from ._base import Chunk, Problem, Reader, ReadOptions
from ._pipeline import FileResult, IngestResult, check_input, run_ingest

__all__ = [
    "READERS",
    "Chunk",
    "FileResult",
    "IngestResult",
    "Problem",
    "ReadOptions",
    "Reader",
    "detect_format",
    "ingest",
    "register_reader",
]

READERS: dict[str, type[Reader]] = {}
"""Format name (``--format``) -> reader class, in the order ``auto`` tries them."""

_ALIASES: dict[str, tuple[str, ...]] = {}
"""Umbrella names from the stable interface (``twitter``, ``csv``) -> the readers they cover."""


def register_reader(cls: type[Reader], *, aliases: Sequence[str] = ()) -> type[Reader]:
    """Add a reader to the registry; ``aliases`` are umbrella ``--format`` names it answers to."""
    READERS[cls.name] = cls
    for alias in aliases:
        _ALIASES[alias] = (*_ALIASES.get(alias, ()), cls.name)
    return cls


def _head(path: Path, n: int = 1 << 16) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def detect_format(
    path: str | os.PathLike[str], within: Sequence[str] | None = None
) -> type[Reader]:
    """The reader whose ``sniff`` accepts the file, trying ``within`` (default: all) in order."""
    from . import _formats  # noqa: F401  (registers the readers)

    p = Path(path)
    check_input(p)
    head = _head(p)
    names = list(within) if within else list(READERS)
    for name in names:
        if READERS[name].sniff(p, head):
            return READERS[name]
    tried = ", ".join(names)
    raise InputError(
        str(p),
        f"not a format tidings can read (tried {tried})",
        hint="name it with --format, and map columns with --map field=column",
    )


def _explain(reader: Reader) -> None:
    """Let a reader say why a file is not its format: a reader raises InputError, naming the
    line and field, before its first chunk when the whole file cannot be read as asked."""
    chunks = reader.read()
    try:
        next(iter(chunks), None)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def ingest(
    workspace: Workspace | str | os.PathLike[str],
    paths: Sequence[str | os.PathLike[str]],
    *,
    format: str = "auto",
    column_map: dict[str, str] | None = None,
    dataset: str = "main",
    timezone: str = "UTC",
    platform: str | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> IngestResult:
    """Ingest ``paths`` into ``dataset`` of the workspace; all files or none are stored.

    Returns the counts (read, stored, duplicates, quarantined) per file. Raises
    :class:`~tidings.errors.InputError` before writing anything when a file cannot be read as
    asked.
    """
    from . import _formats  # noqa: F401  (registers the readers)

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    options = ReadOptions(column_map=dict(column_map or {}), timezone=timezone, platform=platform)
    readers: list[Reader] = []
    for raw in paths:
        p = Path(raw)
        check_input(p)
        if format == "auto":
            cls = detect_format(p)
        elif format in READERS:
            cls = READERS[format]
        elif format in _ALIASES:
            try:
                cls = detect_format(p, _ALIASES[format])
            except InputError:
                _explain(READERS[_ALIASES[format][0]](p, options))
                raise
        else:
            known = ", ".join(["auto", *sorted({*READERS, *_ALIASES})])
            raise InputError(str(p), f"unknown format {format!r}", hint=f"one of: {known}")
        readers.append(cls(p, options))
    return run_ingest(ws, readers, dataset=dataset, progress=progress)
