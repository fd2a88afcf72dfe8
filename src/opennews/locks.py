"""Advisory file locks that say who holds them.

Each lock is an ``flock`` on a small file: the kernel releases it when its holder
dies, ``kill -9`` included, so no stale lock ever needs clearing by hand. The holder
writes its pid and command line into the file, so whoever waits can say what it is
waiting for ("waiting for pid 4711, opennews index --rebuild") instead of hanging
silently.

Waiting polls a non-blocking attempt: Ctrl-C interrupts it at once, and a caller
may give up after a while.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

__all__ = ["Busy", "FileLock"]

_POLL = 0.05


class Busy(Exception):
    """The lock is held by someone else and the caller would not wait."""


def _command() -> str:
    return " ".join(["opennews", *sys.argv[1:]]) if sys.argv and sys.argv[0] else f"pid {os.getpid()}"


class FileLock:
    """An exclusive lock on ``path``; ``what`` names the job it protects in messages."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = Path(path)
        self.what = what
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> str:
        """Who holds the lock, as it wrote itself down (empty if unknown)."""
        try:
            return self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""

    def _try(self, fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def acquire(self, *, wait: float | None = None, say: Callable[[str], None] | None = None) -> None:
        """Take the lock, waiting ``wait`` seconds at most (None: as long as it takes) and
        telling ``say`` once what it waits for. Raises :class:`Busy` when it gives up."""
        if self._fd is not None:
            raise RuntimeError(f"{self.what}: lock already held by this object")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not self._try(fd):
                holder = self.holder() or "another process"
                if wait is not None and wait <= 0:
                    raise Busy(f"{self.what} is busy: {holder}")
                if say is not None:
                    say(f"waiting for the {self.what} held by {holder} …")
                deadline = None if wait is None else time.monotonic() + wait
                while not self._try(fd):
                    if deadline is not None and time.monotonic() >= deadline:
                        raise Busy(f"{self.what} is busy: {holder}")
                    time.sleep(_POLL)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} ({_command()})\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def try_acquire(self) -> bool:
        """Take the lock if it is free now; False if someone holds it."""
        try:
            self.acquire(wait=0)
        except Busy:
            return False
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.ftruncate(fd, 0)
            finally:
                os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> FileLock:
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
