"""The Searcher: one object, opened once, answering typed requests.

It holds a Whoosh searcher and the vocabulary open across requests. Before each
request it checks, cheaply, whether the archive's change log or the index moved
(the archive's last sequence number, and a ``stat`` of the index's ``CURRENT``
pointer and state file): a new commit or a rebuilt generation is opened and warmed
(generation.py) while the open one goes on answering, then swapped in, and any change
forgets the remembered answers. Articles withdrawn after the index's
position are hidden from every set at once (totals, facets, related articles), so
a takedown shows in search before the index itself catches up. Articles are read
from the archive, so what a hit shows is exactly what the archive holds.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import orjson

from ..archive import Archive
from ..vietnamese import fold, from_telex, has_marks, looks_like_telex, normalize, syllables
from .analysis import BIGRAM_JOINER
from .completion import complete
from .docsets import DocSets, Tally, ids_of
from .generation import Generation, read_ahead
from .highlight import Highlighter, matched_forms
from .indexer import CURRENT, STATE, current_generation
from .matching import in_reading, matches, runs, shortlist, typed_runs
from .query import ParsedQuery, parse_query
from .ranking import Reading, Scorer, Term, idf
from .schema import StoredText, padded_places
from .vocabulary import Vocabulary

__all__ = ["Hit", "SearchRequest", "SearchResponse", "Searcher"]

log = logging.getLogger("opennews.search")

Sort = Literal["relevance", "newest", "oldest"]
MAX_PER_PAGE = 100
MAX_PAGE = 1000
FACETS = ("source", "category", "year")
#: How many matches the second stage reads and scores (at least; more for deep pages).
SHORTLIST = 50
#: Ranking by relevance goes this deep; sorting by date goes as deep as there are matches.
MAX_RANKED = 1000
#: Answers kept for repeated requests (until the index changes).
ANSWERS = 512
#: A folded pair is ambiguous when its second written form has at least 1/AMBIGUOUS of the
#: first's count in headlines and leads; its forms are then counted in the articles holding
#: it, USE_SAMPLE at a time (evenly spread), until the most used form is used USE_LEAD times
#: as often as the next, or USE_ROUNDS rounds are read.
#:
#: Uses vary a lot from one article to the next (a portrait of a president's wife says "phu
#: nhân" ten times), so one round of 100 chose the less used form of 3 of the 24 pairs of the
#: topical benchmark in one build of the shared corpus, and of other pairs in other builds,
#: whose documents come in another order (folded P@10 moved between 0.83 and 0.95). Over 8
#: draws of each pair: one round of 100 chose wrong 14 times in 192, one of 300 10 times,
#: one of 1,000 8 times (one pair, "co thu", whose most used form is the start of "có thu
#: nhập"); rounds until a lead of 1.5, also 8 times, reading 308 articles on average. At a
#: million articles (long ones), the 480 dev queries spent 3.6 s of 28.6 s counting forms
#: this way, against 2.0 s of 27.6 s with one round of 100; the pairs' counts are kept.
AMBIGUOUS = 20
USE_SAMPLE = 100
USE_ROUNDS = 10
USE_LEAD = 1.5
#: ... and is used at least this many times in the rounds read (one use against none is no lead).
USE_EVIDENCE = 20
#: A pair's counts are a sample's, so a new generation whose document count differs from the
#: open one's by at most this share (an update, a takedown) keeps them: the forms' shares
#: move less than the sampling's own noise there, and each count cost 300 articles read on
#: average. A rebuild of another size counts again.
USE_KEEP = 0.05
#: Seconds a new generation spends reading again the sets the open one kept (the most
#: recently used first, each while no request holds the lock: DocSets.replay) before it is
#: swapped in; all 4,096 took 0.74 s at 90,000 articles with no request running. A commit
#: shows in search up to this much later than if it were swapped in cold (a takedown does
#: not wait: it is hidden from the open generation at once).
REPLAY_SECONDS = 1.0
#: Seconds before a generation that failed to open is tried again (the open one answers meanwhile).
RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class SearchRequest:
    """What to look for. Filters here add to any written in ``q`` (``source:…``)."""

    q: str = ""
    source: str | None = None
    category: str | None = None
    author: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 10
    facets: bool = True
    suggest: bool = True
    snippets: bool = True
    #: Search exactly ``q``: never run its Telex or accent reading instead of it.
    exact: bool = False
    #: Only articles holding the query's reading (matching.in_reading): search feeds.
    reading: bool = False


@dataclass
class Hit:
    id: str
    title: str
    url: str | None
    source: str
    category: str | None
    author: str | None
    published: str | None
    sapo: str | None
    score: float
    rank: int
    snippet: str = ""  # HTML: escaped text with <mark> around matches
    title_html: str = ""


@dataclass
class SearchResponse:
    request: SearchRequest
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    suggestion: str | None = None
    suggestion_kind: str | None = None  # "accents" or "telex"
    relaxed: bool = False
    notes: list[str] = field(default_factory=list)
    took_ms: float = 0.0
    #: The query run instead of ``request.q`` (its Telex or accent reading), when ``q`` found
    #: nothing and the reading found articles; the hits, total and facets are the reading's.
    ran: str | None = None
    ran_kind: str | None = None  # "accents" or "telex"

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.request.per_page))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["query"] = self.request.q
        data["results"] = data.pop("hits")
        data["pages"] = self.pages
        data["facets"] = {k: [{"value": v, "count": n} for v, n in vals] for k, vals in self.facets.items()}
        data["request"] = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data["request"].items()}
        return data


class Searcher:
    """Searches the index under ``index_dir``; reads articles from ``archive``.

    A ``serving`` Searcher (one that lives as long as a server) has a new generation of the
    index prepared by a thread of its own, swapped in by the first :meth:`refresh` after it
    is ready, so that no request waits for it; and it reads the index's files ahead into
    the page cache when it opens (generation.read_ahead; :attr:`reading_ahead` is that
    thread). Otherwise (a command, a test) the caller that notices a new generation prepares
    it and swaps it in before it answers, and nothing is read ahead for one query. Either
    way, other threads go on searching the open generation meanwhile.
    """

    def __init__(self, index_dir: Path, archive: Archive, *, serving: bool = False) -> None:
        self.index_dir = Path(index_dir)
        self.archive = archive
        self._serving = serving
        self._lock = threading.RLock()
        self._stamp: tuple[Any, ...] | None = None
        self._archive_seq = -1
        self._index_seq = 0
        self._hidden: frozenset[str] = frozenset()
        self._generation: Generation | None = None
        self._searcher: Any = None
        self._sets: DocSets | None = None
        self._vocab: Vocabulary | None = None
        self._answers: OrderedDict[SearchRequest, SearchResponse] = OrderedDict()
        self._completions: OrderedDict[tuple[str, int], list[str]] = OrderedDict()
        self._readings: dict[tuple[str, ...], list[str] | None] = {}
        self._uses: dict[str, dict[str, int]] = {}
        self._preparing = False
        self._ready: Generation | None = None
        self._failed: tuple[tuple[Any, ...], float] | None = None  # (stamp, when to try again)
        self._closed = False
        live = current_generation(self.index_dir)
        # Started first, so that the opening waits for its reads rather than the first
        # searches do (generation.read_ahead).
        self.reading_ahead = read_ahead(live) if serving and live is not None else None
        first = Generation.open(self.index_dir, self._index_stamp())
        try:
            first.warm(FACETS)
        except BaseException:
            first.close()
            raise
        with self._lock:
            self._install(first)

    # -- lifecycle ------------------------------------------------------------------

    def _index_stamp(self) -> tuple[Any, ...]:
        """What changes when the indexer commits or a rebuild is swapped in."""

        def stat(path: Path) -> tuple[int, int] | None:
            try:
                st = os.stat(path)
            except OSError:
                return None
            return st.st_ino, st.st_mtime_ns

        live = current_generation(self.index_dir)
        return stat(self.index_dir / CURRENT), stat(live / STATE) if live is not None else None

    def _install(self, generation: Generation) -> None:
        """Answer from ``generation`` from now on (under the lock): forget every answer, close
        the generation that answered until now, and hide what was withdrawn after the new
        one's position."""
        old = self._generation
        if old is None or abs(generation.sets.size - old.sets.size) > USE_KEEP * old.sets.size:
            self._uses = {}
        self._generation = generation
        self._stamp, self._index_seq = generation.stamp, generation.seq
        self._searcher, self._sets = generation.searcher, generation.sets
        self._texts, self._vocab = generation.texts, generation.vocab
        self._answers = OrderedDict()
        self._completions = OrderedDict()
        self._readings = {}
        self._archive_seq = -1
        self._hidden = frozenset()
        if old is not None and self._serving:
            # Nothing reaches the old one now. Closing it unmaps its files, and the last
            # unmapping of a rebuilt-over generation frees its pages (110 ms per GB): not
            # on a request's time.
            threading.Thread(target=old.close, name="opennews-close", daemon=True).start()
        elif old is not None:
            old.close()
        self._follow_archive()

    def _follow_archive(self) -> bool:
        """Forget answers when the archive's change log moved; hide articles withdrawn after
        the index's position. True if the log moved."""
        seq = self.archive.last_seq()
        if seq == self._archive_seq:
            return False
        self._archive_seq = seq
        self._answers.clear()
        hidden = frozenset(self.archive.hidden_since(self._index_seq)) if seq > self._index_seq else frozenset()
        if hidden != self._hidden:
            assert self._sets is not None
            if self._hidden - hidden:  # a restore: start again from the index's own sets
                self._sets = DocSets(self._searcher)
            self._sets.hide(sorted(hidden))
            self._hidden = hidden
        return True

    @property
    def position(self) -> tuple[int, int]:
        """(archive change-log position seen, index position): what the answers reflect."""
        return self._archive_seq, self._index_seq

    def refresh(self) -> bool:
        """Pick up index commits, rebuilds and archive changes made since the last request;
        True if anything changed.

        A new generation is opened and warmed (Generation.warm, with the sets the open one
        kept) outside the lock, by one thread, and only then swapped in: a swap used to open
        the new one and throw away every warm structure inside the lock, on a request
        thread, and the requests after it waited for it and then built them again. A
        generation that fails to open is logged and tried again :data:`RETRY_SECONDS` later;
        the open one goes on answering. The swap itself, and following the archive from the
        new generation's position, happen here on the caller's thread, which is the one
        allowed to use the archive connection.
        """
        with self._lock:
            swapped = self._swap()
            stamp = self._index_stamp()
            if stamp == self._stamp or not self._may_prepare(stamp):
                return self._follow_archive() or swapped
            assert self._sets is not None
            self._preparing = True
            hot = self._sets.hot()
            if self._serving:
                threading.Thread(target=self._prepare, args=(stamp, hot), name="opennews-prepare", daemon=True).start()
                return self._follow_archive() or swapped
        self._prepare(stamp, hot)
        with self._lock:
            return self._swap() or self._follow_archive() or swapped

    def _may_prepare(self, stamp: tuple[Any, ...]) -> bool:
        if self._preparing or self._closed:
            return False
        return self._failed is None or self._failed[0] != stamp or time.monotonic() >= self._failed[1]

    def _prepare(self, stamp: tuple[Any, ...], hot: list[tuple[str, str]]) -> None:
        """Open and warm the generation the index points to now; the next :meth:`_swap` installs it."""
        started = time.monotonic()
        try:
            generation = Generation.open(self.index_dir, stamp)
            try:
                replayed = generation.warm(FACETS, hot, REPLAY_SECONDS, turn=self._lock)
            except BaseException:
                generation.close()
                raise
        except Exception as exc:
            log.warning(
                "could not open the new search index in %s (%s); still answering from the open one, "
                "trying again in %.0f s",
                self.index_dir,
                exc,
                RETRY_SECONDS,
            )
            with self._lock:
                self._preparing = False
                self._failed = (stamp, time.monotonic() + RETRY_SECONDS)
            return
        except BaseException:
            with self._lock:
                self._preparing = False
            raise
        log.info(
            "prepared %s in %.2f s (%d of %d kept sets read again)",
            generation.folder.name,
            time.monotonic() - started,
            replayed,
            len(hot),
        )
        with self._lock:
            self._preparing = False
            self._failed = None
            if self._closed:
                generation.close()
            else:
                self._ready = generation

    def _swap(self) -> bool:
        """Install the generation prepared since the last look, if any (under the lock)."""
        ready, self._ready = self._ready, None
        if ready is None:
            return False
        self._install(ready)
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for generation in (self._generation, self._ready):
                if generation is not None:
                    generation.close()
            self._generation = self._ready = None

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def doc_count(self) -> int:
        return int(self._searcher.doc_count())

    # -- searching ------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        request = replace(
            request,
            page=min(max(1, request.page), MAX_PAGE),
            per_page=min(max(1, request.per_page), MAX_PER_PAGE),
        )
        self.refresh()
        with self._lock:
            cached = self._answers.get(request)
            if cached is not None:
                self._answers.move_to_end(request)
                return replace(cached, took_ms=(time.perf_counter() - started) * 1000)
        parsed = _parse(request)
        with self._lock:
            response = self._run(request, parsed)
            if request.suggest or (not response.total and not request.exact):
                self._suggest(request, parsed, response)
            if not response.total and not request.exact:
                response = self._read_instead(request, response)
            if not request.suggest:
                response.suggestion = response.suggestion_kind = None
            # Popular searches repeat; their answers hold until the index changes.
            self._answers[request] = response
            if len(self._answers) > ANSWERS:
                self._answers.popitem(last=False)
        return replace(response, took_ms=(time.perf_counter() - started) * 1000)

    def _read_instead(self, request: SearchRequest, response: SearchResponse) -> SearchResponse:
        """The answer for the query's reading when the query as typed found nothing and the
        reading finds articles: "vieetj nam" (Telex with the input method off) means "việt nam",
        and a page of nothing with a link to the obvious is one click too many. Otherwise
        ``response`` as it is. A query that finds anything is never replaced, and ``exact``
        turns this off (the way back to what was typed)."""
        reading, kind = response.suggestion, response.suggestion_kind
        if not reading or kind not in ("telex", "accents"):
            return response
        wanted = replace(request, q=reading)
        found = self._run(wanted, _parse(wanted))
        if not found.total:
            return response
        return replace(
            found,
            request=request,
            suggestion=reading,
            suggestion_kind=kind,
            ran=reading,
            ran_kind=kind,
        )

    def _run(self, request: SearchRequest, parsed: ParsedQuery) -> SearchResponse:
        sets = self._sets
        assert sets is not None
        found = matches(parsed, sets, texts=self._texts)
        relaxed = False
        if not found and len(parsed.syllables()) > 2 and len(parsed.positive) > 2:
            found = matches(parsed, sets, relaxed=True, texts=self._texts)
            relaxed = bool(found)
        if request.reading and found:
            reading = _reading(parsed, self._guesses(_words(parsed)))
            if reading is not None and reading.pairs:
                found = in_reading(found, reading, sets, self._texts)
        notes = list(parsed.notes)
        if relaxed:
            notes.append("No article has all the words; showing articles with most of them.")
        total = found.bit_count()
        start = (request.page - 1) * request.per_page
        end = start + request.per_page
        if request.sort == "relevance" and parsed.positive:
            if start >= MAX_RANKED:
                notes.append(f"Ranking by relevance stops at {MAX_RANKED} results; sort by date to go further.")
                page: list[tuple[int, float]] = []
            else:
                page = self._rank(parsed, found, max(SHORTLIST, end))[start:end]
        else:
            docnums = sets.by_date(ids_of(found), newest=request.sort != "oldest", limit=end)[start:end]
            page = [(int(n), 0.0) for n in docnums]
        records = self.archive.get_records([self._searcher.stored_fields(n)["id"] for n, _ in page])
        hits = self._hits(page, records, parsed, request, first_rank=start + 1)
        facets: dict[str, list[tuple[str, int]]] = {}
        if request.facets:
            for name, counts in sets.count_by(FACETS, found).items():
                if name == "year":
                    ordered = sorted(counts.items(), reverse=True)
                else:
                    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                facets[name] = [(v, n) for v, n in ordered if v][:30]
        return SearchResponse(request, total, hits, facets, relaxed=relaxed, notes=notes)

    def matching_ids(self, request: SearchRequest) -> list[str]:
        """The id of every article the request matches, newest first (ties in index order).

        For exports, which want all matches rather than a page: no ranking, no relaxed
        fallback (an export of "most of the words" would surprise), no snippets.
        """
        self.refresh()
        parsed = _parse(request)
        with self._lock:
            sets = self._sets
            assert sets is not None
            stored = self._searcher.stored_fields
            found = matches(parsed, sets, texts=self._texts)
            return [stored(int(n))["id"] for n in sets.by_date(ids_of(found))]

    def _rank(self, parsed: ParsedQuery, found: int, depth: int) -> list[tuple[int, float]]:
        """(docnum, score) of the best ``depth`` matches, best first: shortlisted on sets, scored on their text."""
        sets = self._sets
        assert sets is not None
        words = _words(parsed)
        guesses = self._guesses(words)
        reading = _reading(parsed, guesses)
        written = [w.strip() for _, w in reading.pairs] if reading is not None else []
        docnums = shortlist(parsed, sets, found, depth, written, self._texts)
        terms = [
            Term.make(
                w,
                idf(sets.size, sets.doc_frequency("all_f", fold(w))),
                guesses.get(w),
                idf(sets.size, sets.doc_frequency("title_f", fold(w))),
            )
            for w in words
        ]
        sequences = runs(parsed)
        pairs = {
            f"{a} {b}": idf(sets.size, sets.doc_frequency("all_bi", f"{a}{BIGRAM_JOINER}{b}"))
            for run in sequences
            for a, b in pairwise(run)
        }
        scorer = Scorer(terms, list(pairs.items()), sequences, reading)
        texts, decode = self._texts, StoredText.decode
        keyed = []
        for n in docnums.tolist():
            text = decode(texts[n])
            value, sentence = scorer.measure(text)
            keyed.append((scorer.tier(text), sentence, value, n))
        keyed.sort(key=lambda x: (-x[0], -x[1], -x[2], x[3]))
        return [(n, value) for _, _, value, n in keyed]

    def _guesses(self, words: list[str]) -> dict[str, str]:
        """The likely accented form of each word of a query typed without any marks (its
        :meth:`_likely` reading); empty otherwise."""
        if not words or any(has_marks(w) for w in words):
            return {}
        restored = self._likely([fold(w) for w in words])
        return dict(zip(words, restored, strict=True)) if restored is not None else {}

    def _likely(self, folded: list[str]) -> list[str] | None:
        """The likely accented reading of folded syllables: the vocabulary's (its path over
        pairs, Vocabulary.restore), with each ambiguous pair read as the articles use it
        most where that form also stands beside its neighbours in the reading.

        The vocabulary counts headlines and leads, and weighs common syllables: "phu nhan"
        reads *phu nhân* (the wife of) and "bac bo" *bắc bộ* there, while the articles
        holding the folded pairs use *phủ nhận* (to deny) and *bác bỏ* (to reject) more.
        Ranking and "did you mean" follow what the articles use. Only whole pairs are
        swapped, and only where the neighbours agree: a chain rebuilt from counts of use
        alone chose rare misspellings in long sentences.
        """
        if self._vocab is None:
            return None
        key = tuple(folded)
        if key not in self._readings:
            if len(self._readings) > ANSWERS:
                self._readings.clear()
            reading = self._vocab.restore(folded)
            if reading is not None:
                for i in range(len(folded) - 1):
                    use = self._pair_use(f"{folded[i]} {folded[i + 1]}")
                    if not use:
                        continue
                    form = max(use, key=lambda f: (use[f], f))
                    now = f"{reading[i]} {reading[i + 1]}"
                    if form == now or use[form] <= use.get(now, 0):
                        continue
                    a, b = form.split(" ")
                    before = i == 0 or self._vocab.pair_count(reading[i - 1], a) > 0
                    after = i + 2 == len(folded) or self._vocab.pair_count(b, reading[i + 2]) > 0
                    if before and after:
                        reading[i], reading[i + 1] = a, b
            self._readings[key] = reading
        found = self._readings[key]
        return list(found) if found is not None else None

    def _pair_use(self, folded_pair: str) -> dict[str, int]:
        """The written forms of a folded pair ("phu nhan") with their counts: the
        vocabulary's (headlines and leads) when one form has nearly all of them, else how
        often each is used in the articles holding the pair (in rounds of :data:`USE_SAMPLE`
        of them, scaled to all). Remembered until the index changes by more than :data:`USE_KEEP`."""
        assert self._vocab is not None
        counts = self._vocab.pairs(folded_pair)
        if len(counts) < 2:
            return counts
        ranked = sorted(counts.values(), reverse=True)
        if ranked[1] * AMBIGUOUS < ranked[0]:
            return counts
        found = self._uses.get(folded_pair)
        if found is None:
            sets = self._sets
            assert sets is not None
            holders = sets.ids("all_bi", folded_pair.replace(" ", BIGRAM_JOINER))
            # At most USE_SAMPLE * USE_ROUNDS holders, evenly spread, and each round spread over
            # all of them too: ``grid[r::rounds]`` for round r.
            size = min(len(holders), USE_SAMPLE * USE_ROUNDS)
            grid = holders[np.arange(size) * len(holders) // max(1, size)]
            rounds = -(-size // USE_SAMPLE)
            used = dict.fromkeys(counts, 0)
            texts, needle = self._texts, f" {folded_pair} "
            read = 0
            for r in range(rounds):
                for n in grid[r::rounds].tolist():
                    _count_forms(texts[n], needle, used)
                    read += 1
                first, second = sorted(used.values(), reverse=True)[:2]
                if first >= USE_EVIDENCE and first >= USE_LEAD * second:
                    break
            found = {form: n * len(holders) // max(1, read) for form, n in used.items()}
            if len(self._uses) > ANSWERS:
                self._uses.clear()
            self._uses[folded_pair] = found
        return found

    def _hits(
        self,
        page: list[tuple[int, float]],
        records: dict[str, dict[str, Any]],
        parsed: ParsedQuery,
        request: SearchRequest,
        first_rank: int,
    ) -> list[Hit]:
        words = list(dict.fromkeys(parsed.syllables()))
        sequences = typed_runs(parsed)
        meant = self._guesses(words)
        hits = []
        for rank, (docnum, score) in enumerate(page, first_rank):
            article_id = self._searcher.stored_fields(docnum)["id"]
            rec = records.get(article_id)
            if rec is None:
                continue  # withdrawn since the last index update
            hit = Hit(
                id=article_id,
                title=rec["title"],
                url=rec.get("url"),
                source=rec["source"],
                category=rec.get("category"),
                author=rec.get("author"),
                published=rec.get("published"),
                sapo=rec.get("sapo"),
                score=round(score, 4),
                rank=rank,
            )
            if request.snippets:
                # Marked in the reading this article holds (highlight.matched_forms).
                stored = StoredText.decode(self._texts[docnum])
                exact, anyhow = matched_forms(words, sequences, meant, stored.exact, stored.folded)
                marker = Highlighter(exact, anyhow)
                text = rec.get("body") or rec.get("sapo") or ""
                hit.snippet = marker.snippet(text)
                hit.title_html = marker.mark(rec["title"])
            hits.append(hit)
        return hits

    # -- suggestions ----------------------------------------------------------------

    def _suggest(self, request: SearchRequest, parsed: ParsedQuery, response: SearchResponse) -> None:
        text = request.q.strip()
        plain = bool(text) and all(len(g) == 1 and not g[0].negate for g in parsed.groups) and ":" not in text
        if not plain:
            return
        if looks_like_telex(text) and (response.total < 5 or response.relaxed):
            # Word by word: names typed as they are ("arsenal", "podolski") stay as typed
            # when Telex would turn them into something the archive has never seen.
            chosen: list[str] = []
            for word in syllables(normalize(text)):
                converted = [w for w in syllables(normalize(from_telex(word))) if w]
                changed = bool(converted) and converted != [word]
                if changed and all(self._known(w, strictly=True) for w in converted):
                    chosen.extend(converted)
                elif self._known(word):
                    chosen.append(word)
                elif changed and all(self._known(w) for w in converted):
                    chosen.extend(converted)
                else:
                    chosen = []
                    break
            if chosen and chosen != syllables(normalize(text)) and self._supported(chosen):
                response.suggestion, response.suggestion_kind = " ".join(chosen), "telex"
                return
        words = parsed.syllables()
        if words and not any(has_marks(w) for w in words):
            restored = self._likely([fold(w) for w in words])
            if restored and restored != words and any(has_marks(w) for w in restored) and self._supported(restored):
                response.suggestion, response.suggestion_kind = " ".join(restored), "accents"

    def _supported(self, reading: list[str]) -> bool:
        """Whether the archive has every adjacent pair of a reading: one built word by word
        can join syllables no article puts side by side, and would lead to nothing."""
        return self._vocab is not None and self._vocab.supports(reading)

    def complete(self, q: str, limit: int = 5) -> list[str]:
        """Readings of a query being typed with its last syllable completed (``completion.complete``).

        Remembered until the index changes: a search box asks again for each key pressed
        and backspaced.
        """
        self.refresh()
        with self._lock:
            if self._vocab is None:
                return []
            key = (q, limit)
            found = self._completions.get(key)
            if found is None:
                found = self._completions[key] = complete(self._vocab, q, limit)
                if len(self._completions) > ANSWERS:
                    self._completions.popitem(last=False)
            return list(found)

    def _known(self, word: str, *, strictly: bool = False) -> bool:
        """Seen in a headline or lead as it is, or (unless ``strictly``) anywhere in some accent form."""
        reader = self._searcher.reader()
        if reader.doc_frequency("title", word) or (self._vocab is not None and self._vocab.knows(word)):
            return True
        return not strictly and bool(reader.doc_frequency("all_f", fold(word)))

    # -- related --------------------------------------------------------------------

    def related(self, article_id: str, limit: int = 5) -> list[Hit]:
        """Articles about the same thing: sharing the rarest words of its title and lead."""
        self.refresh()
        record = self.archive.get_record(article_id)
        if record is None:
            return []
        with self._lock:
            sets = self._sets
            assert sets is not None
            total = max(1, sets.size)
            words = {fold(w) for w in syllables(normalize(f"{record['title']} {record.get('sapo') or ''}"))}
            weighted = []
            for w in words:
                df = sets.doc_frequency("all_f", w)
                if df > 0 and (df < total * 0.2 or df <= 2) and not w.isdigit():
                    weighted.append((math.log(total / df), w))
            weighted.sort(reverse=True)
            if not weighted:
                return []
            rare = weighted[:15]
            shared = Tally(sets.live & ~sets.term("id", article_id))
            for _, w in rare:  # at least three matches, in the headline or anywhere
                shared.add(sets.term("all_f", w), 1)
                shared.add(sets.term("title_f", w), 1)
            tally = Tally(shared.at_least(min(3, len(rare))))
            for weight, w in rare:
                tally.add(sets.term("title_f", w), round(4 * weight))
                tally.add(sets.term("all_f", w), round(2 * weight))
            chosen, _ = tally.top(limit)
            values = tally.values_for(ids_of(chosen).tolist())
            dates = sets.published()
            ranked = sorted(values.items(), key=lambda kv: (-kv[1], -dates[kv[0]]))[:limit]
            page = [(self._searcher.stored_fields(n)["id"], float(v)) for n, v in ranked]
        records = self.archive.get_records([i for i, _ in page])
        return [
            Hit(
                id=i,
                title=records[i]["title"],
                url=records[i].get("url"),
                source=records[i]["source"],
                category=records[i].get("category"),
                author=records[i].get("author"),
                published=records[i].get("published"),
                sapo=records[i].get("sapo"),
                score=round(s, 4),
                rank=rank,
            )
            for rank, (i, s) in enumerate(page, 1)
            if i in records
        ]


def _words(parsed: ParsedQuery) -> list[str]:
    """The query's syllables to look for (not those excluded), each once."""
    return list(dict.fromkeys(w for g in parsed.positive for c in g if not c.negate for w in c.words))


def _reading(parsed: ParsedQuery, guesses: dict[str, str]) -> Reading | None:
    """The reading the query means: as typed when it has marks, else its likely one."""
    typed = typed_runs(parsed)
    if guesses:
        return Reading.of([[guesses.get(w, w) for w in run] for run in typed], typed=False)
    if any(has_marks(w) for w in parsed.syllables()):
        single = [w for w in parsed.syllables() if has_marks(w)]
        return Reading.of(typed or [single], typed=True)
    return None


def _parse(request: SearchRequest) -> ParsedQuery:
    """The query as typed, with the request's own filters added to any written in it."""
    parsed = parse_query(request.q)
    for name in ("source", "category", "author", "date_from", "date_to"):
        if getattr(request, name):
            setattr(parsed, name, getattr(request, name))
    return parsed


def response_json(response: SearchResponse) -> bytes:
    return orjson.dumps(response.to_dict())


def _count_forms(stored: bytes, needle: str, used: dict[str, int]) -> None:
    """Add to ``used`` how often each of its written forms stands where an article's folded
    text holds ``needle`` (" phu nhan "): one search whatever the number of forms, the
    written form read at the same place (StoredText.written_at), or in the decoded parts
    where those are not folded unit by unit."""
    forms = StoredText.written_at(stored, needle)
    if forms is not None:
        for written in forms:
            if written in used:
                used[written] += 1
        return
    text = StoredText.decode(stored)
    for exact, folded in zip(text.exact, text.folded, strict=True):
        if len(exact) != len(folded):  # folded otherwise (a few odd letters): form by form
            for form in used:
                used[form] += sum(1 for _ in padded_places(exact, f" {form} "))
            continue
        for at in padded_places(folded, needle):
            written = exact[at + 1 : at + len(needle) - 1]
            if written in used:
                used[written] += 1
