"""Reading a large input file around the page cache (``O_DIRECT``).

Why: on the virtual disks measured here (docs/benchmarks.md), a buffered read of a file that is
not cached yet costs about 2 CPU-seconds per GB in the kernel, copying through the page cache:
4.6 CPU-µs per 2.3 KB tweet, as much as converting it. A direct read into an aligned buffer
costs 0.03 CPU-seconds per GB. A collection of tens of GB is never in the cache anyway, and
reading it once should not evict the workspace's own files from it.

Where the system or the filesystem does not allow direct reads (macOS, tmpfs, ...), the file is
read the ordinary way, from the same position.
"""

from __future__ import annotations

import io
import mmap
import os
from pathlib import Path
from types import TracebackType

__all__ = ["DirectReader"]

_SIZE = 8 << 20
"""Bytes per direct read: a multiple of every block size, and large enough that the disk
streams at full speed."""


class DirectReader:
    """A binary file opened for ``readinto``, read directly where possible."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._plain: io.BufferedReader | None = None
        self._fd: int | None = None
        flag = getattr(os, "O_DIRECT", 0)
        if flag:
            try:
                self._fd = os.open(path, os.O_RDONLY | flag)
            except OSError:
                self._fd = None
        if self._fd is None:
            self._plain = path.open("rb")
        self._buffer = mmap.mmap(-1, _SIZE)  # page-aligned, as direct reads need
        self._view = memoryview(self._buffer)
        self._start = self._end = 0
        self._offset = 0  # bytes of the file read so far
        self._eof = False

    def readinto(self, target: memoryview) -> int:
        """Fill ``target`` with the next bytes of the file (all of it, unless the file ends
        first); 0 at its end."""
        if self._plain is not None:
            return self._plain.readinto(target)
        filled = 0
        while filled < len(target):
            if self._start == self._end and not self._refill():
                if self._plain is not None:  # direct reads failed: read on the ordinary way
                    filled += self._plain.readinto(target[filled:])
                break
            n = min(len(target) - filled, self._end - self._start)
            target[filled : filled + n] = self._view[self._start : self._start + n]
            self._start += n
            filled += n
        return filled

    def _refill(self) -> bool:
        """Read the next bytes into the buffer; False at the end of the file."""
        if self._eof:
            return False
        assert self._fd is not None
        try:
            got = os.readv(self._fd, [self._buffer])
        except OSError:  # e.g. EINVAL: this filesystem takes no direct reads
            self._fall_back()
            return False
        self._offset += got
        self._start, self._end = 0, got
        self._eof = got < _SIZE  # a short read is the end; reading on would be unaligned
        return got > 0

    def _fall_back(self) -> None:
        plain = self.path.open("rb")
        plain.seek(self._offset)
        self._close_fd()
        self._plain = plain

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        self._close_fd()
        if self._plain is not None:
            self._plain.close()
        self._view.release()
        self._buffer.close()

    def __enter__(self) -> DirectReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
