"""The byte- and entry-bounded least-recently-used map that serving caches share."""

from __future__ import annotations

from opennews.caches import SizedLRU


def test_entries_are_dropped_least_recently_used_first_past_either_bound() -> None:
    cache: SizedLRU[str, bytes] = SizedLRU(len)
    for key in "abcd":
        cache.put(key, b"x" * 10, entries=10, max_bytes=35)
    assert cache.keys_by_use() == ["d", "c", "b"] and cache.bytes == 30  # "a" went for the bytes
    assert cache.get("b") == b"x" * 10 and cache.keys_by_use()[0] == "b"
    cache.put("e", b"y", entries=3, max_bytes=100)  # now the count bounds it
    assert cache.keys_by_use() == ["e", "b", "d"] and cache.bytes == 21
    cache.put("e", b"z" * 5, entries=3, max_bytes=100)  # replaced, not counted twice
    assert cache.bytes == 25 and len(cache) == 3
    cache.put("big", b"w" * 500, entries=3, max_bytes=100)  # the newest stays, even alone over the bound
    assert cache.keys_by_use() == ["big"] and cache.bytes == 500
    assert cache.get("gone") is None and "big" in cache


def test_entries_can_all_change_in_place_and_be_marked_used() -> None:
    cache: SizedLRU[str, bytes] = SizedLRU(len)
    for key in "abc":
        cache.put(key, b"1234", entries=10, max_bytes=100)
    cache.touch("a")
    cache.touch("absent")
    cache.update_all(lambda v: v[:1])
    assert cache.keys_by_use() == ["a", "c", "b"] and cache.bytes == 3
    assert list(cache.values()) == [b"1", b"1", b"1"]
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0
