"""Reading a large input file around the page cache (``O_DIRECT``).

Why: on the virtual disks measured here (docs/benchmarks.md), a buffered read of a file that is
not cached yet costs about 2 CPU-seconds per GB in the kernel, copying through the page cache:
4.6 CPU-µs per 2.3 KB tweet, as much as converting it. A direct read into an aligned buffer
costs 0.03 CPU-seconds per GB. A collection of tens of GB is never in the cache anyway, and
reading it once should not evict the workspace's own files from it.

Where the system or the filesystem does not allow direct reads (macOS, procfs, tmpfs before
Linux 6.6, ...), the file is read the ordinary way, from the same position.
"""

from __future__ import annotations

import io
import mmap
import os
import queue
import threading
from pathlib import Path
from types import TracebackType

__all__ = ["DirectReader"]

_AHEAD = 3
"""Buffers in flight: one being copied out, two being read."""
_SIZE = 8 << 20
"""Bytes per direct read: a multiple of every block size, and large enough that the disk
streams at full speed."""


class DirectReader:
    """A binary file opened for ``readinto``, read directly where possible.

    A thread reads ahead into a few aligned buffers, so the disk streams while the caller
    converts what was read (a direct read waits for the disk; the kernel's read-ahead, which
    would hide that, is what the page cache costs).
    """

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
            return
        # Page-aligned, as direct reads need.
        self._free: queue.Queue[mmap.mmap | None] = queue.Queue()
        for _ in range(_AHEAD):
            self._free.put(mmap.mmap(-1, _SIZE))
        self._full: queue.Queue[tuple[mmap.mmap, int] | OSError] = queue.Queue()
        self._current: mmap.mmap | None = None
        self._view: memoryview | None = None
        self._start = self._end = 0
        self._offset = 0  # bytes of the file handed over by the read-ahead thread
        self._eof = False
        self._thread = threading.Thread(target=self._read_ahead, args=(self._fd,), daemon=True)
        self._thread.start()

    def _read_ahead(self, fd: int) -> None:
        while (buffer := self._free.get()) is not None:
            try:
                got = os.readv(fd, [buffer])
            except OSError as exc:  # e.g. EINVAL: this filesystem takes no direct reads
                self._full.put(exc)
                return
            self._full.put((buffer, got))
            if got < _SIZE:  # a short read is the end; reading on would be unaligned
                return

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
            assert self._view is not None
            n = min(len(target) - filled, self._end - self._start)
            target[filled : filled + n] = self._view[self._start : self._start + n]
            self._start += n
            filled += n
        return filled

    def _refill(self) -> bool:
        """Take the next buffer the thread read; False at the end of the file."""
        self._give_back()
        if self._eof:
            return False
        item = self._full.get()
        if isinstance(item, OSError):
            self._eof = True
            self._fall_back()
            return False
        buffer, got = item
        self._current, self._view = buffer, memoryview(buffer)
        self._offset += got
        self._start, self._end = 0, got
        self._eof = got < _SIZE
        return got > 0

    def _give_back(self) -> None:
        if self._current is not None:
            assert self._view is not None
            self._view.release()
            self._free.put(self._current)
            self._current = self._view = None

    def _fall_back(self) -> None:
        plain = self.path.open("rb")
        plain.seek(self._offset)
        self._plain = plain

    def close(self) -> None:
        if self._fd is not None:
            self._give_back()
            self._free.put(None)  # the thread stops at its next buffer
            self._thread.join()
            os.close(self._fd)
            self._fd = None
            while not self._free.empty():
                buffer = self._free.get()
                if buffer is not None:
                    buffer.close()
        if self._plain is not None:
            self._plain.close()

    def __enter__(self) -> DirectReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
