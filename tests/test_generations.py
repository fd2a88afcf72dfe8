"""A new index generation is prepared before it is swapped in: warm, while searches go on
from the open one, and never in place of an open one when it cannot be opened.

Real indexes written by the Indexer, a real Searcher and the web Backend. The one seam is a
gate after the real warm-up, in the tests where a search must land while a warm-up runs.
"""

from __future__ import annotations

import ctypes
import logging
import mmap
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from opennews.archive import Archive
from opennews.article import make_article
from opennews.search import Indexer, Searcher, SearchRequest
from opennews.search import searcher as searcher_module
from opennews.search.docsets import DocSets, ids_of
from opennews.search.generation import WINDOW, Generation, evict, read_ahead
from opennews.search.indexer import current_generation
from opennews.search.schema import SCHEMA_VERSION
from opennews.settings import Settings
from opennews.web.backend import Backend
from tools import within

#: Above DocSets.CACHE_MIN_DF (256): the sets of "cần thơ", in every article, are kept.
COUNT = 300
CAN_THO = SearchRequest(q="can tho", per_page=5)


def article(i: int) -> object:
    return make_article(
        {
            "id": f"a-{i}",
            "title": f"Bản tin Cần Thơ số {i}",
            "body": "Tin Cần Thơ hôm nay.",
            "source": f"s{i % 3}.example",
            "category": ("Thời sự", "Kinh tế")[i % 2],
            "published": f"202{i % 5}-03-0{1 + i % 9}T08:00:00+07:00",
        }
    )


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    """A home of COUNT articles, indexed."""
    with Archive.open(tmp_path / "opennews.sqlite3") as archive:
        archive.upsert_batch([article(i) for i in range(COUNT)])
        Indexer(tmp_path / "index", archive).rebuild()
    return tmp_path


class Gate:
    """Holds each warm-up, after it ran, while shut: what a large index's warm-up would take."""

    def __init__(self) -> None:
        self.entered, self.open, self.runs = threading.Event(), threading.Event(), 0
        self.open.set()

    def shut(self) -> None:
        self.open.clear()
        self.entered.clear()
        self.runs = 0


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    """A gate after every real warm-up from now on (open until the test shuts it)."""
    gate = Gate()
    real = Generation.warm

    def warm(self: Generation, *args: Any, **kwargs: Any) -> int:
        replayed = real(self, *args, **kwargs)
        gate.runs += 1
        gate.entered.set()
        assert gate.open.wait(30)
        return replayed

    monkeypatch.setattr(Generation, "warm", warm)
    yield gate
    gate.open.set()


def test_a_swap_brings_the_hot_sets_dates_and_facets_along(indexed: Path) -> None:
    with Archive.open(indexed / "opennews.sqlite3") as archive, Searcher(indexed / "index", archive) as searcher:
        assert searcher.search(CAN_THO).total == COUNT
        old = searcher._sets
        assert old is not None
        hot = old.hot()
        assert ("all_f", "can") in hot and ("title_bi", "can_tho") in hot
        archive.upsert_batch([article(COUNT)])
        Indexer(indexed / "index", archive).rebuild()
        archive.withdraw("a-7", "gỡ theo yêu cầu")  # after the new index's position: hidden at the swap
        assert searcher.refresh()
        sets = searcher._sets
        assert sets is not None and sets is not old
        assert 0 < searcher.position[1] < searcher.position[0]
        # read again on the new generation before it answered, in the same order of use, and
        # kept (masked) when the withdrawn article was hidden from them
        assert sets.hot() == hot
        assert sets._published is not None and {"source", "category", "year"} <= set(sets._codes)
        assert sets.term("all_f", "can").bit_count() == COUNT  # one more, one withdrawn
        found = searcher.matching_ids(SearchRequest(q="can tho"))
        assert len(found) == COUNT and "a-7" not in found and f"a-{COUNT}" in found
        assert sum(n for _, n in searcher.search(CAN_THO).facets["source"]) == COUNT


def _wife_or_deny(i: int) -> object:
    title, body = ("Phu nhân thăm trường", "Phu nhân đến.") if i % 2 else ("Bộ phủ nhận tin", "Ông phủ nhận.")
    return make_article({"id": f"p-{i}", "title": f"{title} {i}", "body": body, "source": "s.example"})


def test_a_pairs_counts_are_kept_across_a_small_update_and_counted_again_after_a_large_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    count = searcher_module._count_forms

    def counted(stored: bytes, needle: str, used: dict[str, int]) -> None:
        reads.append(1)
        count(stored, needle, used)

    monkeypatch.setattr(searcher_module, "_count_forms", counted)
    with Archive.open(tmp_path / "opennews.sqlite3") as archive:
        archive.upsert_batch([_wife_or_deny(i) for i in range(40)])
        Indexer(tmp_path / "index", archive).rebuild()
        with Searcher(tmp_path / "index", archive) as searcher:
            first = searcher._pair_use("phu nhan")
            assert first.keys() == {"phu nhân", "phủ nhận"} and len(reads) == 40
            archive.upsert_batch([_wife_or_deny(40)])  # 1 in 40: kept
            Indexer(tmp_path / "index", archive).update()
            assert searcher.refresh() and searcher.doc_count == 41
            assert searcher._pair_use("phu nhan") == first and len(reads) == 40
            archive.upsert_batch([_wife_or_deny(i) for i in range(41, 44)])  # 3 more in 41: counted again
            Indexer(tmp_path / "index", archive).update()
            assert searcher.refresh() and searcher.doc_count == 44
            assert searcher._pair_use("phu nhan") != first and len(reads) == 40 + 44


def test_a_takedown_hides_from_the_kept_sets_without_forgetting_them(indexed: Path) -> None:
    with Archive.open(indexed / "opennews.sqlite3") as archive, Searcher(indexed / "index", archive) as searcher:
        searcher.search(CAN_THO)
        sets = searcher._sets
        assert sets is not None
        hot = sets.hot()
        doc = int(ids_of(sets.term("id", "a-3"))[0])
        archive.withdraw("a-3", "x")
        assert searcher.refresh()
        assert searcher._sets is sets and set(sets.hot()) == set(hot)
        assert not any(sets.term(*key) >> doc & 1 for key in hot)
        assert searcher.search(CAN_THO).total == COUNT - 1
        archive.restore("a-3")  # a restore starts again from the index's own sets, as it did
        assert searcher.search(CAN_THO).total == COUNT


def test_the_replay_gives_way_to_requests(indexed: Path) -> None:
    """Sets are read again only while no request holds the lock, and not past the deadline."""
    with Archive.open(indexed / "opennews.sqlite3") as archive, Searcher(indexed / "index", archive) as s:
        s.search(CAN_THO)
        assert s._sets is not None
        hot = s._sets.hot()
        fresh = DocSets(s._searcher)
        request = threading.Lock()
        with request:  # a request is searching all along
            started = time.monotonic()
            assert fresh.replay(hot, started + 0.3, turn=request) == 0
            assert 0.3 <= time.monotonic() - started < 2
        assert fresh.hot() == []
        assert fresh.replay(hot, time.monotonic() + 10, turn=request) == len(hot)
        assert fresh.hot() == hot


def test_searches_go_on_from_the_open_generation_while_the_next_is_prepared(indexed: Path, gate: Gate) -> None:
    readonly = Archive.open(indexed / "opennews.sqlite3", readonly=True)
    searcher = Searcher(indexed / "index", readonly)
    before = searcher.position[1]
    with Archive.open(indexed / "opennews.sqlite3") as archive:
        archive.upsert_batch([article(COUNT)])
        Indexer(indexed / "index", archive).rebuild()
    gate.shut()
    answers: list[int] = []
    noticing = threading.Thread(target=lambda: answers.append(searcher.search(CAN_THO).total))
    noticing.start()
    try:
        assert gate.entered.wait(10), "the new generation was not prepared"
        started = time.monotonic()
        for q in ("so 1", "ban tin", ""):  # answered from the open generation, not held by the warm-up
            assert searcher.search(SearchRequest(q=q, per_page=5)).total >= 1
            assert searcher.position[1] == before
        assert searcher.search(SearchRequest(q="")).total == COUNT
        assert time.monotonic() - started < 5
        assert noticing.is_alive() and gate.runs == 1  # only one thread prepares
    finally:
        gate.open.set()
        noticing.join(10)
    assert answers == [COUNT + 1]  # the caller that noticed swapped it in before answering
    assert searcher.position[1] > before and searcher.search(CAN_THO).total == COUNT + 1
    searcher.close()
    readonly.close()


def test_a_serving_searcher_never_makes_a_request_wait_for_a_warm_up(indexed: Path, gate: Gate) -> None:
    readonly = Archive.open(indexed / "opennews.sqlite3", readonly=True)
    with Searcher(indexed / "index", readonly, serving=True) as searcher:
        with Archive.open(indexed / "opennews.sqlite3") as archive:
            archive.upsert_batch([article(COUNT)])
            Indexer(indexed / "index", archive).rebuild()
        gate.shut()
        answered = threading.Event()
        totals: list[int] = []

        def ask() -> None:
            totals.append(searcher.search(CAN_THO).total)
            answered.set()

        threading.Thread(target=ask, daemon=True).start()
        try:
            assert answered.wait(5), "the request that noticed the new generation waited for its warm-up"
            assert totals == [COUNT] and gate.entered.wait(10)
            assert searcher.search(CAN_THO).total == COUNT  # still warming: the open one answers
        finally:
            gate.open.set()
        within(5, lambda: searcher.search(CAN_THO).total == COUNT + 1, "the prepared generation is swapped in")
    readonly.close()


def _break(index_dir: Path) -> tuple[Path, bytes]:
    """Mark the live generation as written by another schema version; (its state file, the good bytes)."""
    live = current_generation(index_dir)
    assert live is not None
    state = live / "state.json"
    good = state.read_bytes()
    state.write_bytes(orjson.dumps({**orjson.loads(good), "schema": SCHEMA_VERSION - 1}))
    return state, good


def test_a_generation_that_cannot_be_opened_leaves_the_open_one_answering(
    indexed: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(searcher_module, "RETRY_SECONDS", 0.2)
    with Archive.open(indexed / "opennews.sqlite3") as archive, Searcher(indexed / "index", archive) as searcher:
        assert searcher.search(CAN_THO).total == COUNT
        archive.upsert_batch([article(COUNT)])
        Indexer(indexed / "index", archive).rebuild()
        state, good = _break(indexed / "index")
        with caplog.at_level(logging.WARNING, logger="opennews.search"):
            assert searcher.search(CAN_THO).total == COUNT  # the old generation, its files removed, still answers
        assert "another version" in caplog.text and "still answering" in caplog.text
        state.write_bytes(good)
        within(5, lambda: searcher.search(CAN_THO).total == COUNT + 1, "the mended generation is opened")


def test_the_server_answers_from_the_open_generation_when_the_new_one_is_broken(
    indexed: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(searcher_module, "RETRY_SECONDS", 0.2)
    backend = Backend(Settings(indexed))
    backend.open()
    try:
        assert backend.search(CAN_THO).total == COUNT
        with Archive.open(indexed / "opennews.sqlite3") as archive:
            archive.upsert_batch([article(COUNT)])
            Indexer(indexed / "index", archive).rebuild()
        state, good = _break(indexed / "index")
        with caplog.at_level(logging.WARNING, logger="opennews.search"):
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:  # tried again and again, answered every time
                assert backend.search(CAN_THO).total == COUNT
                time.sleep(0.05)
        assert caplog.text.count("another version") >= 2
        state.write_bytes(good)
        within(5, lambda: backend.search(CAN_THO).total == COUNT + 1, "the mended generation is opened")
    finally:
        backend.close()


# -- reading ahead -------------------------------------------------------------------------


def resident(path: Path) -> float:
    """The share of a file's pages in the page cache (mincore(2) on a private map of it)."""
    libc = ctypes.CDLL(None, use_errno=True)
    size = path.stat().st_size
    page = mmap.PAGESIZE
    pages = (size + page - 1) // page
    vector = (ctypes.c_ubyte * pages)()
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY) as mapped:
        start = ctypes.c_char.from_buffer(mapped)  # nothing is read or copied: only its address
        try:
            if libc.mincore(ctypes.c_void_p(ctypes.addressof(start)), ctypes.c_size_t(size), vector) != 0:
                raise OSError(ctypes.get_errno(), "mincore")
        finally:
            del start
    return sum(v & 1 for v in vector) / pages


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mincore and posix_fadvise as Linux has them")
def test_read_ahead_brings_every_window_of_a_generation_into_the_page_cache(tmp_path: Path) -> None:
    folder = tmp_path / "gen"
    folder.mkdir()
    big, small = folder / "big.pst", folder / "small.col"
    big.write_bytes(os.urandom(3 * WINDOW))  # advice on a whole file reads only its first window
    small.write_bytes(os.urandom(100_000))
    evict(folder.iterdir())
    if resident(big) > 0.1:
        pytest.skip("files cannot be put out of the page cache here (a tmpfs?)")
    nothing = read_ahead(folder, share=1e-9)  # more than the share of memory: left alone
    assert nothing is not None
    nothing.join(10)
    assert resident(small) < 0.5 and resident(big) < 0.1
    thread = read_ahead(folder)
    assert thread is not None
    thread.join(10)
    within(5, lambda: resident(big) > 0.95 and resident(small) > 0.95, "every page is in the page cache")


def test_only_a_serving_searcher_reads_its_index_ahead(indexed: Path) -> None:
    with Archive.open(indexed / "opennews.sqlite3", readonly=True) as archive:
        with Searcher(indexed / "index", archive) as once:
            assert once.reading_ahead is None
        with Searcher(indexed / "index", archive, serving=True) as serving:
            assert serving.reading_ahead is not None or not hasattr(os, "posix_fadvise")
