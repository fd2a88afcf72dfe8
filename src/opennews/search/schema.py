"""The index schema and how an archived record becomes an index document.

Matching and ranking use different fields, so that a query costs what its
candidates cost, not what its commonest syllable costs:

* ``all_f`` — the whole article (title, lead, body) folded, with positions: every
  query syllable must match here (one cheap intersection), phrases and proximity
  are checked here;
* ``all`` — the same text exact (marks kept, frequencies only): accent preference;
* ``all_bi`` — its folded syllable pairs: rare pairs lift the article a sentence
  typed without quotes or marks comes from into the candidates;
* ``title``/``title_f``/``title_bi`` and ``sapo_f``/``sapo_bi`` — exact, folded
  and folded-bigram forms of the short parts, which rank headline and lead
  matches first.

Source, category, author, date and year are filters and facets. Only the id and
content hash are stored: the archive is the place to read articles from.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from whoosh.fields import ID, NUMERIC, TEXT, Schema

from ..vietnamese import VN_TZ, fold, normalize
from .analysis import bigram_analyzer, exact_analyzer, folded_analyzer

__all__ = ["PARTS", "SCHEMA_VERSION", "build_schema", "category_key", "document_for", "epoch"]

SCHEMA_VERSION = 2
#: Weights of the short parts whose matches are rewarded on top of ``all_f``.
PARTS: tuple[tuple[str, float], ...] = (("title", 3.0), ("sapo", 1.5))


def build_schema() -> Schema:
    fields: dict[str, Any] = {
        "id": ID(stored=True, unique=True),
        "content_hash": ID(stored=True),
        "source": ID(stored=True, sortable=True),
        "category": ID(stored=True, sortable=True),
        "category_key": ID(),
        "author": TEXT(analyzer=folded_analyzer(), phrase=True),
        "published": NUMERIC(numtype=int, bits=64, sortable=True, signed=True),
        "year": ID(sortable=True),
    }
    fields["all"] = TEXT(analyzer=exact_analyzer(), phrase=False)
    fields["all_f"] = TEXT(analyzer=folded_analyzer(), phrase=True)
    fields["all_bi"] = TEXT(analyzer=bigram_analyzer(), phrase=False)
    fields["title"] = TEXT(analyzer=exact_analyzer(), phrase=True)
    fields["title_f"] = TEXT(analyzer=folded_analyzer(), phrase=True)
    fields["title_bi"] = TEXT(analyzer=bigram_analyzer(), phrase=False)
    fields["sapo_f"] = TEXT(analyzer=folded_analyzer(), phrase=False)
    fields["sapo_bi"] = TEXT(analyzer=bigram_analyzer(), phrase=False)
    return Schema(**fields)


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
    # Blank lines between the parts keep phrases from running across them.
    doc["all"] = doc["all_f"] = doc["all_bi"] = "\n\n".join(x for x in (title, sapo, body) if x)
    doc["title"] = doc["title_f"] = doc["title_bi"] = title
    if sapo:
        doc["sapo_f"] = doc["sapo_bi"] = sapo
    return doc
