"""The Searcher: one object, opened once, answering typed requests.

It holds a Whoosh searcher and the vocabulary open across requests. Before each
request it checks, cheaply, whether the archive's change log or the index moved
(the archive's last sequence number, and a ``stat`` of the index's ``CURRENT``
pointer and state file): a new commit or a rebuilt generation is opened in place,
and any change forgets the remembered answers. Articles withdrawn after the index's
position are hidden from every set at once (totals, facets, related articles), so
a takedown shows in search before the index itself catches up. Articles are read
from the archive, so what a hit shows is exactly what the archive holds.
"""

from __future__ import annotations

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

import orjson
from whoosh import index as whoosh_index

from ..archive import Archive
from ..vietnamese import fold, from_telex, has_marks, looks_like_telex, normalize, syllables
from .analysis import BIGRAM_JOINER
from .completion import complete
from .docsets import DocSets, Tally, ids_of
from .highlight import Highlighter, matched_forms
from .indexer import CURRENT, STATE, VOCABULARY, current_generation, index_state
from .matching import in_reading, matches, runs, shortlist, typed_runs
from .query import ParsedQuery, parse_query
from .ranking import Reading, Scorer, Term, idf
from .schema import StoredText
from .storage import MappedStorage
from .vocabulary import Vocabulary

__all__ = ["Hit", "SearchRequest", "SearchResponse", "Searcher"]

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
#: first's count in headlines and leads; its forms are then counted in this many articles.
AMBIGUOUS = 20
USE_SAMPLE = 100


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
    """Searches the index under ``index_dir``; reads articles from ``archive``."""

    def __init__(self, index_dir: Path, archive: Archive) -> None:
        self.index_dir = Path(index_dir)
        self.archive = archive
        self._lock = threading.RLock()
        self._stamp: tuple[Any, ...] | None = None
        self._archive_seq = -1
        self._index_seq = 0
        self._hidden: frozenset[str] = frozenset()
        self._searcher: Any = None
        self._sets: DocSets | None = None
        self._vocab: Vocabulary | None = None
        self._answers: OrderedDict[SearchRequest, SearchResponse] = OrderedDict()
        self._completions: OrderedDict[tuple[str, int], list[str]] = OrderedDict()
        self._readings: dict[tuple[str, ...], list[str] | None] = {}
        self._uses: dict[str, dict[str, int]] = {}
        self._open()

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

    def _open(self) -> None:
        live = current_generation(self.index_dir)
        if live is None or not whoosh_index.exists_in(str(live)):
            raise FileNotFoundError(f"no search index in {self.index_dir}; run 'opennews index --rebuild'")
        state = index_state(live)
        if state is None:
            raise FileNotFoundError(
                f"the search index in {self.index_dir} was built by another version; run 'opennews index --rebuild'"
            )
        old_searcher, old_vocab = self._searcher, self._vocab
        self._stamp = self._index_stamp()
        self._index_seq = int(state["last_seq"])
        self._searcher = MappedStorage(str(live)).open_index().searcher()
        self._sets = DocSets(self._searcher)
        try:
            self._texts = self._searcher.reader().column_reader("text", translate=False)
        except NotImplementedError:  # an index without documents has no column to read
            self._texts = []
        self._answers = OrderedDict()
        self._completions = OrderedDict()
        self._readings = {}
        self._uses = {}
        self._archive_seq = -1
        self._hidden = frozenset()
        # Pay the one-time costs now rather than in the first request: the folding
        # table, and opening the stored fields and the text column.
        fold("đ")
        if self._searcher.doc_count_all():
            self._searcher.stored_fields(0)
            self._texts[0]
        vocab_path = live / VOCABULARY
        self._vocab = Vocabulary(vocab_path, readonly=True) if vocab_path.exists() else None
        if self._vocab is not None:
            self._vocab.starting("bigrams", "a", 1, 1)  # the first read of a cold file took 150 ms
        if old_searcher is not None:
            old_searcher.close()
        if old_vocab is not None:
            old_vocab._conn.close()
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
        True if anything changed."""
        with self._lock:
            if self._index_stamp() != self._stamp:
                self._open()
                return True
            return self._follow_archive()

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            if self._vocab is not None:
                self._vocab._conn.close()

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
            docnums = sets.by_date(ids_of(found), newest=request.sort != "oldest")[start:end]
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
        docnums = shortlist(parsed, sets, found, depth, written)
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
        often each is used in the articles holding the pair (at most :data:`USE_SAMPLE` of
        them, evenly spread, scaled to all). Remembered until the index changes."""
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
            holders = ids_of(sets.term("all_bi", folded_pair.replace(" ", BIGRAM_JOINER))).tolist()
            step = max(1, len(holders) // USE_SAMPLE)
            needles = {form: f" {form} " for form in counts}
            used = dict.fromkeys(counts, 0)
            exact_of, texts = StoredText.exact_of, self._texts
            for n in holders[::step]:
                parts = exact_of(texts[n])
                for form, needle in needles.items():
                    used[form] += sum(part.count(needle) for part in parts)
            found = {form: n * step for form, n in used.items()}
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
