"""A least-recently-used map bounded in bytes as well as in entries.

A serving worker keeps things whose size grows with the archive (a term's document set is
an eighth of a byte per indexed article) or with what is asked (a full-text feed is
hundreds of kilobytes): a bound on the number of entries alone would let its memory grow
with either. Not thread-safe: callers hold their own lock where they need one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["SizedLRU"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SizedLRU(Generic[K, V]):
    """Entries in order of use, with the bytes they hold (as ``size`` counts them).

    The bounds are given to :meth:`put`, read where it is called: they are settings of the
    caller's module, and a test may change them on a cache that already exists.
    """

    def __init__(self, size: Callable[[V], int]) -> None:
        self._size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self.bytes = 0

    def get(self, key: K) -> V | None:
        """The entry, marked as the most recently used (None when absent)."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, *, entries: int, max_bytes: int) -> None:
        """Keep ``value`` as the most recently used, then drop the least recently used while
        over either bound (never the one just put)."""
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= self._size(old)
        self._entries[key] = value
        self.bytes += self._size(value)
        while len(self._entries) > 1 and (len(self._entries) > entries or self.bytes > max_bytes):
            self.bytes -= self._size(self._entries.popitem(last=False)[1])

    def touch(self, key: K) -> None:
        """Mark an entry, if kept, as the most recently used."""
        if key in self._entries:
            self._entries.move_to_end(key)

    def update_all(self, change: Callable[[V], V]) -> None:
        """Replace every entry by ``change(entry)``, keeping their order of use."""
        self._entries = OrderedDict((key, change(value)) for key, value in self._entries.items())
        self.bytes = sum(map(self._size, self._entries.values()))

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def keys_by_use(self) -> list[K]:
        """The keys, the most recently used first."""
        return list(reversed(self._entries))

    def values(self) -> Iterator[V]:
        return iter(self._entries.values())

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
