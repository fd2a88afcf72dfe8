"""The index's own vocabulary: which accented forms stand behind each folded form.

Built while indexing from titles and leads (the words people type into a search
box), it holds syllable and syllable-pair counts keyed by their folded form. It
restores accents ("tai nan giao thong" → "tai nạn giao thông") by choosing, for
each position, the accented syllable that best fits its neighbours: pairs decide,
single-syllable counts break ties. Stored in SQLite beside the Whoosh index.

The counts are committed together with the change-log position they reflect
(``last_seq``): an index update killed after its Whoosh commit but before its
state file was written replays those changes, and the vocabulary skips the ones
it already counted instead of counting them twice.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path

from ..vietnamese import fold, has_marks, normalize, syllables

__all__ = ["Vocabulary"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS unigrams (fold TEXT NOT NULL, exact TEXT NOT NULL, n INTEGER NOT NULL,
                                     PRIMARY KEY (fold, exact)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bigrams (fold TEXT NOT NULL, exact TEXT NOT NULL, n INTEGER NOT NULL,
                                    PRIMARY KEY (fold, exact)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_UPSERT = "INSERT INTO {t} (fold, exact, n) VALUES (?, ?, ?) ON CONFLICT (fold, exact) DO UPDATE SET n = n + excluded.n"
_CANDIDATES = 6


class Vocabulary:
    """Counts of accented syllables and pairs, looked up by their folded form."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self._conn = sqlite3.connect(path, check_same_thread=False)
            self._conn.executescript(_SCHEMA)
        self._uni: Counter[tuple[str, str]] = Counter()
        self._bi: Counter[tuple[str, str]] = Counter()
        self._restored: dict[tuple[str, ...], list[str] | None] = {}

    def close(self) -> None:
        self.flush()
        self._conn.close()

    # -- building ---------------------------------------------------------------

    def add_text(self, text: str, sign: int = 1) -> None:
        words = syllables(normalize(text))
        for w in words:
            if not w.isdigit():
                self._uni[(fold(w), w)] += sign
        for a, b in pairwise(words):
            if not (a.isdigit() or b.isdigit()):
                self._bi[(f"{fold(a)} {fold(b)}", f"{a} {b}")] += sign
        if len(self._bi) > 200_000:
            self.flush()

    def remove_text(self, text: str) -> None:
        """Take a text's counts back out (a purged article leaves no word of its own behind)."""
        self.add_text(text, -1)

    def flush(self, last_seq: int | None = None) -> None:
        """Write the pending counts (and, if given, the change-log position they reach) in one transaction."""
        if not (self._uni or self._bi) and last_seq is None:
            return
        with self._conn:
            self._conn.executemany(_UPSERT.format(t="unigrams"), [(f, e, n) for (f, e), n in self._uni.items()])
            self._conn.executemany(_UPSERT.format(t="bigrams"), [(f, e, n) for (f, e), n in self._bi.items()])
            if any(n < 0 for n in self._uni.values()):
                self._conn.execute("DELETE FROM unigrams WHERE n <= 0")
                self._conn.execute("DELETE FROM bigrams WHERE n <= 0")
            if last_seq is not None:
                self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_seq', ?)", (last_seq,))
        self._uni.clear()
        self._bi.clear()

    @property
    def last_seq(self) -> int:
        """The change-log position whose additions are counted (0 for a vocabulary that never recorded one)."""
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'last_seq'").fetchone()
        except sqlite3.OperationalError:  # a read-only vocabulary written before positions were recorded
            return 0
        return int(row[0]) if row else 0

    # -- looking up -------------------------------------------------------------

    def forms(self, folded: str) -> list[tuple[str, int]]:
        """Accented forms of a folded syllable, most frequent first."""
        return self._conn.execute(
            "SELECT exact, n FROM unigrams WHERE fold = ? ORDER BY n DESC LIMIT ?", (folded, _CANDIDATES)
        ).fetchall()

    def pairs(self, folded: str) -> dict[str, int]:
        """Accented forms of a folded pair ("ha noi") with their counts: one look-up for
        every pair of candidates at two positions."""
        return dict(self._conn.execute("SELECT exact, n FROM bigrams WHERE fold = ?", (folded,)).fetchall())

    def knows(self, word: str) -> bool:
        return self._conn.execute("SELECT 1 FROM unigrams WHERE exact = ? LIMIT 1", (word,)).fetchone() is not None

    def restore(self, folded_words: Sequence[str]) -> list[str] | None:
        """The most likely accented reading of a folded syllable sequence (Viterbi over pairs).

        Returns None when some syllable has never been seen. Remembered: ranking and
        "did you mean" both ask for the same query's reading.
        """
        key = tuple(folded_words)
        cache = self._restored
        if key not in cache:
            if len(cache) > 4096:
                cache.clear()
            cache[key] = self._restore(key)
        found = cache[key]
        return list(found) if found is not None else None

    def _restore(self, folded_words: Sequence[str]) -> list[str] | None:
        best = self.readings(folded_words)
        return max(best.values(), key=lambda x: x[0])[1] if best else None

    def readings(self, typed: Sequence[str]) -> dict[str, tuple[float, list[str]]]:
        """The best reading ending in each form of the last syllable, with its score.

        ``typed`` are normalised syllables: a marked one stands only for itself (the
        writer chose those marks), an unmarked one for any of its accented forms. Empty
        when some syllable was never seen.
        """
        if not typed:
            return {}
        folded_words = [fold(w) for w in typed]
        options: list[list[tuple[str, int]]] = []
        for w, f in zip(typed, folded_words, strict=True):
            if w.isdigit():
                options.append([(w, 1)])
                continue
            forms = self.forms(f)
            if has_marks(w):
                forms = [(e, n) for e, n in forms if e == w] or ([(w, c)] if (c := self.count(w)) else [])
            if not forms:
                return {}
            options.append(forms)
        # best[form] = (score, path)
        best: dict[str, tuple[float, list[str]]] = {f: (math.log1p(n), [f]) for f, n in options[0]}
        for (before, here), forms in zip(pairwise(folded_words), options[1:], strict=True):
            counts = self.pairs(f"{before} {here}")
            step: dict[str, tuple[float, list[str]]] = {}
            for form, n in forms:
                unigram = math.log1p(n)
                score, path = max(
                    (
                        (prev_score + 4.0 * math.log1p(counts.get(f"{prev} {form}", 0)) + unigram, prev_path)
                        for prev, (prev_score, prev_path) in best.items()
                    ),
                    key=lambda x: x[0],
                )
                step[form] = (score, [*path, form])
            best = step
        return best

    def count(self, word: str) -> int:
        """How often an accented syllable was seen."""
        row = self._conn.execute("SELECT n FROM unigrams WHERE fold = ? AND exact = ?", (fold(word), word)).fetchone()
        return int(row[0]) if row else 0

    def pair_count(self, a: str, b: str) -> int:
        """How often the accented pair "a b" was seen."""
        row = self._conn.execute(
            "SELECT n FROM bigrams WHERE fold = ? AND exact = ?", (f"{fold(a)} {fold(b)}", f"{a} {b}")
        ).fetchone()
        return int(row[0]) if row else 0

    def supports(self, words: Sequence[str]) -> bool:
        """Whether every adjacent pair of a reading occurs in some headline or lead.

        A "did you mean" built syllable by syllable can join forms no article ever puts
        side by side ("đến tin hiểu thông minh"); offering it sends the reader to nothing.
        Pairs with a number are never counted, so they are not asked about.
        """
        return all(a.isdigit() or b.isdigit() or self.pair_count(a, b) > 0 for a, b in pairwise(words))

    def starting(self, table: str, prefix: str, scan: int, limit: int) -> list[tuple[str, int]]:
        """Forms whose fold starts with ``prefix``, most frequent first, among the first
        ``scan`` rows of the key range: bounded work however common the prefix."""
        assert table in ("unigrams", "bigrams")
        return self._conn.execute(
            f"SELECT exact, n FROM (SELECT exact, n FROM {table} WHERE fold >= ? AND fold < ? LIMIT ?)"
            " ORDER BY n DESC LIMIT ?",
            (prefix, prefix + "\U0010ffff", scan, limit),
        ).fetchall()

    def add_records(self, records: Iterable[dict[str, object]]) -> None:
        for rec in records:
            for part in ("title", "sapo"):
                text = rec.get(part)
                if isinstance(text, str) and text:
                    self.add_text(text)
