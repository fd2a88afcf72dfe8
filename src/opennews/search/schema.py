"""The index schema and how an archived record becomes an index document.

Every text field is a set of terms per document (Whoosh's ``Existence`` format:
no frequencies, no positions, no lengths), because the index is only asked
which documents hold a term (see docsets.py); how well a document matches is
judged afterwards on its stored text, for the few dozen candidates that
matter. That keeps postings small and indexing fast.

* ``all_f`` — the folded syllables of the whole article (title, lead, body):
  every query syllable must be here;
* ``all_bi`` — its folded syllable pairs: a sentence typed without quotes or
  marks finds its article through pairs that are rare even when its syllables
  are not;
* ``title``/``title_f``/``title_bi`` and ``sapo_f``/``sapo_bi`` — exact, folded
  and paired forms of the headline and lead, which rank those matches first;
* ``text`` — stored: the article's syllables, exact and folded, compressed, for
  the second stage (term counts, exact forms, words side by side).

Source, category, author and year are filters and facets, ``published`` sorts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from whoosh.fields import ID, NUMERIC, STORED, Schema

from ..vietnamese import VN_TZ, fold, normalize
from .analysis import BREAK, bigram_analyzer, cut, exact_analyzer, fold_syllable, folded_analyzer

__all__ = ["SCHEMA_VERSION", "StoredText", "build_schema", "category_key", "document_for", "epoch"]

SCHEMA_VERSION = 6


def build_schema() -> Schema:
    def terms(analyzer: Any) -> ID:
        return ID(analyzer=analyzer)

    return Schema(
        id=ID(stored=True, unique=True),
        content_hash=ID(stored=True),
        source=ID(),
        category=ID(),
        category_key=ID(),
        author=terms(folded_analyzer()),
        published=NUMERIC(numtype=int, bits=64, sortable=True, signed=True),
        year=ID(),
        all_f=terms(folded_analyzer()),
        all_bi=terms(bigram_analyzer()),
        title=terms(exact_analyzer()),
        title_f=terms(folded_analyzer()),
        title_bi=terms(bigram_analyzer()),
        sapo_f=terms(folded_analyzer()),
        sapo_bi=terms(bigram_analyzer()),
        text=STORED(),
    )


#: Separates the parts (title, lead, body) in the stored text.
PART_BREAK = "\x1f"
#: Separates the exact form from the folded one.
FORM_BREAK = "\x1e"


class StoredText:
    """An article as the second stage reads it: " syl syl syl " strings per part.

    Spaces pad every syllable, so " ha noi " in ``folded[2]`` is a side-by-side
    match (punctuation and paragraph breaks don't separate: people copy across
    them). Both forms are stored (Whoosh compresses a document's stored fields
    together): folding at query time would cost more than reading.
    """

    __slots__ = ("exact", "folded")

    def __init__(self, exact: list[str], folded: list[str]) -> None:
        self.exact = exact
        self.folded = folded

    @classmethod
    def from_cuts(cls, cuts: list[list[str]]) -> StoredText:
        """From analysis.cut() of the title, the lead and the body."""
        exact = [[w for w in words if w != BREAK] for words in cuts]
        return cls(
            [" " + " ".join(words) + " " for words in exact],
            [" " + " ".join(map(fold_syllable, words)) + " " for words in exact],
        )

    def encode(self) -> str:
        # A string, not bytes: Whoosh pickles stored fields with protocol 2, which keeps
        # a string as UTF-8 but bytes as a Latin-1 string re-encoded on every read; and
        # it compresses them itself.
        return PART_BREAK.join(self.exact) + FORM_BREAK + PART_BREAK.join(self.folded)

    @classmethod
    def decode(cls, stored: str) -> StoredText:
        exact, _, folded = stored.partition(FORM_BREAK)
        return cls(exact.split(PART_BREAK), folded.split(PART_BREAK))


def category_key(label: str) -> str:
    """Categories match whatever the accents or case: "the thao" finds "Thể thao"."""
    return " ".join(fold(normalize(label)).split())


def epoch(value: str | None) -> int | None:
    """Seconds since 1970 for a record's date (a date alone counts from midnight, Vietnam time)."""
    if not value:
        return None
    if len(value) == 10:
        d = date.fromisoformat(value)
        return int(datetime(d.year, d.month, d.day, tzinfo=VN_TZ).timestamp())
    return int(datetime.fromisoformat(value).timestamp())


def document_for(record: dict[str, Any]) -> dict[str, Any]:
    """The index document for one archived record (a dict in the dump format)."""
    doc: dict[str, Any] = {
        "id": record["id"],
        "content_hash": record["content_hash"],
        "source": record["source"],
        "year": (record.get("published") or "")[:4] or "undated",
    }
    if record.get("category"):
        doc["category"] = record["category"]
        doc["category_key"] = category_key(record["category"])
    if record.get("author"):
        doc["author"] = record["author"]
    when = epoch(record.get("published"))
    if when is not None:
        doc["published"] = when
    title, sapo, body = record.get("title") or "", record.get("sapo") or "", record.get("body") or ""
    if sapo and body.startswith(sapo):
        body = body[len(sapo) :].lstrip()  # a lead repeated as the first paragraph would count twice
    # Blank lines between the parts keep pairs from running across them.
    joined = "\n\n".join(x for x in (title, sapo, body) if x)
    doc["all_f"] = doc["all_bi"] = joined
    doc["title"] = doc["title_f"] = doc["title_bi"] = title
    if sapo:
        doc["sapo_f"] = doc["sapo_bi"] = sapo
    doc["text"] = StoredText.from_cuts([cut(title), cut(sapo), cut(body)]).encode()
    return doc
