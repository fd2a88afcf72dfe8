"""The Searcher: one object, opened once, answering typed requests.

It holds a Whoosh searcher and the vocabulary open across requests, and checks
before each request whether the indexer has committed since (the state file
changes with every commit), refreshing in place; a full rebuild swapped in under
it is picked up the same way. Articles are read from the archive, so what a hit
shows is exactly what the archive holds.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import orjson
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import sorting

from ..archive import Archive
from ..vietnamese import fold, from_telex, has_marks, looks_like_telex, normalize, syllables
from .highlight import Highlighter
from .indexer import LIVE, STATE, VOCABULARY
from .query import ParsedQuery, build_query, parse_query
from .rerank import folded_words, proximity
from .vocabulary import Vocabulary

__all__ = ["Hit", "SearchRequest", "SearchResponse", "Searcher"]

Sort = Literal["relevance", "newest", "oldest"]
MAX_PER_PAGE = 100
MAX_PAGE = 1000
FACETS = ("source", "category", "year")
#: How many candidates the second stage re-ranks, and how much side-by-side matches weigh
#: (as a share of the best first-stage score).
RERANK_DEPTH = 200
PROXIMITY_WEIGHT = 0.8


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
        self._state_mtime: int | None = None
        self._searcher: Any = None
        self._vocab: Vocabulary | None = None
        self._open()

    # -- lifecycle ------------------------------------------------------------------

    def _state_stamp(self) -> int | None:
        try:
            return os.stat(self.index_dir / STATE).st_mtime_ns
        except OSError:
            return None

    def _open(self) -> None:
        live = self.index_dir / LIVE
        if not whoosh_index.exists_in(str(live)):
            raise FileNotFoundError(f"no search index in {self.index_dir}; run 'opennews index --rebuild'")
        old_searcher, old_vocab = self._searcher, self._vocab
        self._state_mtime = self._state_stamp()
        self._searcher = whoosh_index.open_dir(str(live)).searcher()
        vocab_path = self.index_dir / VOCABULARY
        self._vocab = Vocabulary(vocab_path, readonly=True) if vocab_path.exists() else None
        if old_searcher is not None:
            old_searcher.close()
        if old_vocab is not None:
            old_vocab._conn.close()

    def refresh(self) -> bool:
        """Pick up commits and rebuilds made since the last request; True if anything changed."""
        with self._lock:
            if self._state_stamp() == self._state_mtime:
                return False
            self._open()
            return True

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
        parsed = parse_query(request.q)
        for name in ("source", "category", "author", "date_from", "date_to"):
            if getattr(request, name):
                setattr(parsed, name, getattr(request, name))
        with self._lock:
            response = self._run(request, parsed)
            if request.suggest:
                self._suggest(request, parsed, response)
        response.took_ms = (time.perf_counter() - started) * 1000
        return response

    def _run(self, request: SearchRequest, parsed: ParsedQuery) -> SearchResponse:
        query = build_query(parsed)
        results, total = self._execute(query, request)
        relaxed = False
        if total == 0 and len(parsed.syllables()) > 2:
            results, total = self._execute(build_query(parsed, relaxed=True), request)
            relaxed = total > 0
        notes = list(parsed.notes)
        if relaxed:
            notes.append("No article has all the words; showing articles with most of them.")
        ranked = [(r["id"], float(r.score or 0.0)) for r in results]
        start = (request.page - 1) * request.per_page
        if self._reranks(query, request):
            records = self.archive.get_records([i for i, _ in ranked])
            ranked = self._rerank(ranked, records, parsed)
            page = ranked[start : start + request.per_page]
        else:
            page = ranked[start : start + request.per_page]
            records = self.archive.get_records([i for i, _ in page])
        hits = self._hits(page, records, parsed, request, first_rank=start + 1)
        facets: dict[str, list[tuple[str, int]]] = {}
        if request.facets:
            for name in FACETS:
                counts = results.groups(name)
                ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
                if name == "year":
                    ordered = sorted(counts.items(), key=lambda kv: str(kv[0]), reverse=True)
                facets[name] = [(str(v), int(n)) for v, n in ordered if v not in (None, "")][:30]
        return SearchResponse(request, total, hits, facets, relaxed=relaxed, notes=notes)

    @staticmethod
    def _reranks(query: wq.Query, request: SearchRequest) -> bool:
        return request.sort == "relevance" and not isinstance(query, wq.Every)

    def _execute(self, query: wq.Query, request: SearchRequest) -> tuple[Any, int]:
        """Run a query: the candidates to rank (or the sorted page's worth) and the total."""
        kwargs: dict[str, Any] = {"terms": False}
        if request.facets:
            kwargs["groupedby"] = {name: sorting.FieldFacet(name, maptype=sorting.Count) for name in FACETS}
        if not self._reranks(query, request):
            kwargs["sortedby"] = sorting.FieldFacet("published", reverse=request.sort != "oldest")
        limit = request.page * request.per_page
        if self._reranks(query, request):
            limit = max(limit, RERANK_DEPTH)
        # optimize=False: score every match once, which also gives the exact total for
        # free (the optimised path skips blocks, then counts all matches again).
        results = self._searcher.search(query, limit=limit, optimize=False, **kwargs)
        return results, len(results)

    def _rerank(
        self, ranked: list[tuple[str, float]], records: dict[str, dict[str, Any]], parsed: ParsedQuery
    ) -> list[tuple[str, float]]:
        runs = _runs(parsed)
        if not runs or not ranked:
            return ranked
        top = ranked[0][1] or 1.0
        rescored = []
        for article_id, score in ranked:
            rec = records.get(article_id)
            if rec is None:
                continue
            text = folded_words(f"{rec['title']}\n{rec.get('sapo') or ''}\n{rec.get('body') or ''}")
            rescored.append((article_id, score + PROXIMITY_WEIGHT * top * proximity(text, runs)))
        rescored.sort(key=lambda x: -x[1])
        return rescored

    def _hits(
        self,
        page: list[tuple[str, float]],
        records: dict[str, dict[str, Any]],
        parsed: ParsedQuery,
        request: SearchRequest,
        first_rank: int,
    ) -> list[Hit]:
        words = parsed.syllables()
        marker = Highlighter([w for w in words if has_marks(w)], [fold(w) for w in words])
        hits = []
        for rank, (article_id, score) in enumerate(page, first_rank):
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
            converted = normalize(from_telex(text))
            words = syllables(converted)
            if converted != normalize(text) and words and all(self._known(w) for w in words):
                response.suggestion, response.suggestion_kind = " ".join(words), "telex"
                return
        words = parsed.syllables()
        if words and not any(has_marks(w) for w in words) and self._vocab is not None:
            restored = self._vocab.restore([fold(w) for w in words])
            if restored and restored != words and any(has_marks(w) for w in restored):
                response.suggestion, response.suggestion_kind = " ".join(restored), "accents"

    def _known(self, word: str) -> bool:
        reader = self._searcher.reader()
        return bool(reader.doc_frequency("all", word)) or (self._vocab is not None and self._vocab.knows(word))

    # -- related --------------------------------------------------------------------

    def related(self, article_id: str, limit: int = 5) -> list[Hit]:
        """Articles about the same thing: the rarest words of its title and lead, weighted."""
        self.refresh()
        record = self.archive.get_record(article_id)
        if record is None:
            return []
        with self._lock:
            reader = self._searcher.reader()
            total = max(1, reader.doc_count())
            words = {fold(w) for w in syllables(normalize(f"{record['title']} {record.get('sapo') or ''}"))}
            weighted = []
            for w in words:
                df = reader.doc_frequency("all_f", w)
                if df > 0 and (df < total * 0.2 or df <= 2) and not w.isdigit():
                    weighted.append((math.log(total / df), w))
            weighted.sort(reverse=True)
            terms = [w for _, w in weighted[:15]]
            if not terms:
                return []
            clauses = [wq.Term("title_f", w, boost=2 * idf) for idf, w in weighted[:15]]
            clauses += [wq.Term("all_f", w, boost=idf) for idf, w in weighted[:15]]
            query = wq.AndNot(wq.Or(clauses, minmatch=min(3, len(terms))), wq.Term("id", article_id))
            results = self._searcher.search(query, limit=limit, terms=False)
            page = [(r["id"], r.score, r.rank) for r in results]
        records = self.archive.get_records([i for i, _, _ in page])
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
                score=round(float(s), 4),
                rank=r + 1,
            )
            for i, s, r in page
            if i in records
        ]


def _runs(parsed: ParsedQuery) -> list[list[str]]:
    """Folded syllable sequences typed side by side: the plain words, and each phrase."""
    runs: list[list[str]] = []
    plain: list[str] = []
    for group in parsed.positive:
        clauses = [c for c in group if not c.negate]
        if len(clauses) == 1 and not clauses[0].phrase:
            plain.extend(fold(w) for w in clauses[0].words)
            continue
        runs.extend([fold(w) for w in c.words] for c in clauses if len(c.words) > 1)
    if len(plain) > 1:
        runs.append(plain)
    return runs


def response_json(response: SearchResponse) -> bytes:
    return orjson.dumps(response.to_dict())
