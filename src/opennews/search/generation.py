"""One generation of the index, opened and warmed before it answers.

The Searcher opens a generation when it starts, and again each time the indexer commits
or a rebuild is swapped in (``index/CURRENT``). Opening is cheap: the files are
memory-mapped. What costs is everything the first requests would then build for
themselves, one after another behind the Searcher's lock: the publication date of every
document, the facet fields' value sets and codes, the sets of the frequent terms that
queries ask for (DocSets), the first reads of the text column, the stored fields and the
vocabulary, and after a restart the index's pages faulted in from disk one at a time.
:meth:`Generation.warm` pays for these before the generation replaces the one that
answers, and replays the sets that the old generation kept, the most recently used
first, for a bounded time. When a server opens, :func:`read_ahead` has the kernel read the
generation's files in large sequential requests, rather than the first searches faulting
them in a page at a time.

Measured on the 90,000-article index (1.1 GB in two segments, 2 cores): the dates take
27 ms, the three facet fields 22 ms (138 ms with the files out of the page cache), and
the 4,096 kept sets 0.74 s to read again. Under ``opennews serve --workers 2`` loaded by 8
connections, a swap to a new generation (the old one removed, as a rebuild does) held half
of the first eight requests 550–1,000 ms each behind the one that opened it inside the lock
(slowest answer 680–1,000 ms in three runs); prepared beside the open one, the first eight
took 50–240 ms (slowest answer 340–405 ms). The p95 of the first 10 s stayed within the load's own
noise either way on this machine (0.9–1.6 times the warm p95, which itself ranged
108–148 ms). Searching from 2 threads at a gentler pace, the second after a swap had a
p95 of 123–137 ms before and 42–70 ms now, against 37–41 ms warm.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from ..vietnamese import fold
from .docsets import DocSets
from .indexer import VOCABULARY, current_generation, index_state
from .storage import MappedStorage
from .vocabulary import Vocabulary

__all__ = ["Generation", "evict", "read_ahead"]

#: Bytes asked for at a time by :func:`read_ahead`: the kernel reads no more than its
#: read-ahead window (``read_ahead_kb``, 8 MiB here) for one ``POSIX_FADV_WILLNEED``, so
#: advice on a whole file brought in 67 MB of the 1.1 GB index, where advice on each window
#: brought in all of it in 0.8 s (0.1 s of CPU).
WINDOW = 8 << 20


@dataclass
class Generation:
    """An opened generation: its searcher, document sets, text column and vocabulary, the
    index's change-log position, and the stamp (``Searcher._index_stamp``) it was opened at."""

    stamp: tuple[Any, ...]
    folder: Path
    seq: int
    searcher: Any
    sets: DocSets
    texts: Any
    vocab: Vocabulary | None

    @classmethod
    def open(cls, index_dir: Path, stamp: tuple[Any, ...]) -> Generation:
        """The generation ``index_dir/CURRENT`` names; FileNotFoundError (saying what to run)
        when there is none, or it was written by another version."""
        live = current_generation(index_dir)
        if live is None or not whoosh_index.exists_in(str(live)):
            raise FileNotFoundError(f"no search index in {index_dir}; run 'opennews index --rebuild'")
        state = index_state(live)
        if state is None:
            raise FileNotFoundError(
                f"the search index in {index_dir} was built by another version; run 'opennews index --rebuild'"
            )
        searcher = MappedStorage(str(live)).open_index().searcher()
        try:
            try:
                texts: Any = searcher.reader().column_reader("text", translate=False)
            except NotImplementedError:  # an index without documents has no column to read
                texts = []
            vocab_path = live / VOCABULARY
            vocab = Vocabulary(vocab_path, readonly=True) if vocab_path.exists() else None
            return cls(stamp, live, int(state["last_seq"]), searcher, DocSets(searcher), texts, vocab)
        except BaseException:
            searcher.close()
            raise

    def warm(
        self, facets: Sequence[str], hot: Sequence[tuple[str, str]] = (), seconds: float = 0.0, *, turn: Any = None
    ) -> int:
        """Build now what the first requests would otherwise build: the folding table, the
        stored fields and text column opened, the vocabulary's first read (150 ms on a cold
        file), the dates, the ``facets`` fields' codes, then the sets of ``hot`` (field, text)
        keys, most wanted first, for at most ``seconds``, each while no request holds
        ``turn`` (DocSets.replay). Returns how many of those were read."""
        fold("đ")
        if self.searcher.doc_count_all():
            self.searcher.stored_fields(0)
            self.texts[0]
        if self.vocab is not None:
            self.vocab.starting("bigrams", "a", 1, 1)
        self.sets.published()
        self.sets.count_by(facets, 0)
        return self.sets.replay(hot, time.monotonic() + seconds, turn=turn)

    def close(self) -> None:
        self.searcher.close()
        if self.vocab is not None:
            self.vocab._conn.close()


def read_ahead(folder: Path, *, share: float = 0.25) -> threading.Thread | None:
    """Have the kernel read a generation's files into the page cache, smallest first (the
    columns of dates and stored fields, the vocabulary), in a thread of its own that only
    waits on the kernel; started, and returned to be joined if wanted.

    For a server started with the index out of the page cache: its first searches would
    otherwise fault the pages in one at a time. Files are read up to ``share`` of the
    machine's memory in all, so that an index larger than that does not push out what
    the machine already holds. None where the platform has no ``posix_fadvise``.

    Measured with every file of the 90,000-article home out of the page cache (evicted with
    ``POSIX_FADV_DONTNEED``): a Searcher's first 20 searches took 0.9–1.0 s and the slowest
    of 200 210–230 ms; reading ahead from the start of the opening, 0.40–0.44 s and 50–56 ms,
    the opening taking 0.7–1.0 s instead of 0.3–0.4 s (a server opens before it listens). Started
    after the opening instead, its reads queued ahead of the first searches' (slowest
    440–680 ms). The archive's own file is not read ahead: the rest of a cold search's time
    (p50 18 ms against 10 ms warm) is its reads of the records shown.
    """
    if not hasattr(os, "posix_fadvise"):
        return None
    try:
        budget = int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * share)
    except (OSError, ValueError):
        budget = 1 << 30
    thread = threading.Thread(target=_advise, args=(folder, budget), name="opennews-read-ahead", daemon=True)
    thread.start()
    return thread


def evict(paths: Iterable[Path]) -> None:
    """Drop files from the page cache, as a restart of the machine would (written back first:
    only clean pages can be dropped): the cold start that :func:`read_ahead` answers, made
    on purpose by the scale benchmark and the tests."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _advise(folder: Path, budget: int) -> None:
    try:
        files = sorted((p.stat().st_size, p) for p in folder.iterdir() if p.is_file())
    except OSError:  # the generation was removed meanwhile
        return
    for size, path in files:
        if size > budget:
            return
        budget -= size
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            for offset in range(0, size, WINDOW):
                os.posix_fadvise(fd, offset, WINDOW, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)
