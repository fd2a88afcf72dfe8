"""Index files opened as read-only memory maps.

Whoosh's FileStorage reads through buffered files: every posting list, term
lookup and stored document costs a seek and a read system call (hundreds per
query). Its own memory-mapped path (for compound segments) wraps each map in
a BytesIO, which copies the whole file into every process. Here each file is
mapped once and read by slicing: no system call per read, and the pages live
in the operating system's cache, shared by every worker process.
"""

from __future__ import annotations

import mmap
import os
from typing import Any

from .whoosh_internals import FileStorage, StructFile

__all__ = ["MappedStorage"]


class MappedFile(StructFile):
    """A StructFile whose positioned reads slice the map instead of seeking."""

    def get(self, position: int, length: int) -> bytes:
        return self.file[position : position + length]


class MappedStorage(FileStorage):
    """A read-only FileStorage whose files are memory-mapped (empty ones opened as usual)."""

    def __init__(self, path: str) -> None:
        super().__init__(path, readonly=True)

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        path = self._fpath(name)
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                return super().open_file(name, **kwargs)
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return MappedFile(mapped, name=name, **kwargs)
