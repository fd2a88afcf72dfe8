"""Saved article pages (HTML): JSON-LD first, then Open Graph meta, then the text.

Most Vietnamese outlets embed a schema.org ``NewsArticle`` in their pages; where
one exists it names the headline, dates and byline reliably. The body comes from
the ``<article>`` element when there is one, else from every paragraph of the
page, and trailing share/related-links chrome is cut the same way as page text.

Outlets print the headline and the lead inside ``<article>`` too (``<h1>``,
``<p class="sapo">``, ``<h2 class="sapo">``, VnExpress's ``p.description``), and
their meta description is usually that same lead. Neither becomes a body
paragraph: the headline is the title, and the lead as the page shows it is the
sapo (a description cut short with "…" gives way to the full paragraph).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ...vietnamese import clean
from ..html import Block, HtmlText, parse_page
from ..records import Document, Found, Reject
from .jsonmap import map_object, shape_of
from .pagelines import chrome, classify_lines, date_line

__all__ = ["read_webpage"]

_MAX_LEAD_BLOCKS = 3  # a "lead" element holding more paragraphs than this is the body's wrapper
_MAX_LEAD_PREFIX = 40  # "(Dân trí) - ", "TTO - ": an outlet's tag before a lead the meta gives without it
_ELLIPSIS = ("...", "…")


def _jsonld_article(blocks: list[str]) -> dict[str, Any] | None:
    """The first NewsArticle of the page's JSON-LD blocks. A block nested past Python's recursion
    limit (a thousand ``[``, cheap to write) is passed over like one that does not parse, so the
    page is read by its HTML instead of the reader failing on it."""
    for block in blocks:
        try:
            data = json.loads(block)
            graph = data.get("@graph", [data]) if isinstance(data, dict) else []
            candidates = data if isinstance(data, list) else graph
            for item in candidates:
                if isinstance(item, dict) and shape_of(item) == "jsonld":
                    return map_object(item)
        except (json.JSONDecodeError, RecursionError):
            continue
    return None


def _key(text: str) -> str:
    """Text as compared for sameness: cleaned, spaces collapsed, case folded, no final stop."""
    return " ".join(clean(text).split()).casefold().rstrip(" .…")


def repeats_lead(lead: str, paragraph: str) -> bool:
    """True when ``paragraph`` is the lead again: the same text, the lead with the
    outlet's tag in front ("TTO - …"), or the full text of a lead the meta cut short."""
    a, b = _key(lead), _key(paragraph)
    if not a:
        return False
    if a == b or (b.endswith(a) and len(b) - len(a) <= _MAX_LEAD_PREFIX):
        return True
    return lead.rstrip().endswith(_ELLIPSIS) and len(a) >= _MAX_LEAD_PREFIX and b.startswith(a)


def _marked_lead(blocks: list[Block]) -> tuple[int, int] | None:
    """Where the lead-marked paragraphs at the top of the article are (start, end)."""
    start = next((i for i, b in enumerate(blocks[: _MAX_LEAD_BLOCKS + 1]) if b.role == "lead"), None)
    if start is None:
        return None
    end = start
    while end < len(blocks) and blocks[end].role == "lead":
        end += 1
    return (start, end) if end - start <= _MAX_LEAD_BLOCKS else None


def _after_headline(blocks: list[Block]) -> list[Block]:
    """A page without ``<article>``, from its headline on: what comes before the ``<h1>`` is
    the outlet's chrome (weather, log-in, breadcrumbs), which bench/extract.py measured
    as the reader's only extra words on such pages."""
    first = next((i for i, b in enumerate(blocks) if b.role == "headline"), None)
    return blocks[first:] if first is not None and first + 1 < len(blocks) else blocks


def _lead_and_paragraphs(page: HtmlText, title: str | None, sapo: str | None) -> tuple[str | None, list[str]]:
    """The sapo and the article's paragraphs, with neither the headline nor the lead among them."""
    title_key = _key(title) if title else None
    blocks = page.article_blocks or _after_headline(page.blocks)
    blocks = [b for b in blocks if b.role != "headline" and _key(b.text) != title_key]
    marked = _marked_lead(blocks)
    if marked:
        start, end = marked
        sapo = " ".join(b.text for b in blocks[start:end])
        del blocks[start:end]
    elif sapo:
        first = next((i for i, b in enumerate(blocks[:3]) if not date_line(b.text) and not chrome(b.text)), None)
        if first is not None and repeats_lead(sapo, blocks[first].text):
            sapo = blocks.pop(first).text
    return sapo, [b.text for b in blocks]


def _drop_repeated_lead(body: str, sapo: str) -> str:
    """A JSON-LD ``articleBody`` that starts with its own ``description``, without it."""
    lines = body.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or not repeats_lead(sapo, lines[first]):
        return body
    return "\n".join(lines[first + 1 :]).strip("\n")


def read_webpage(doc: Document) -> Iterator[Found | Reject]:
    page = parse_page(doc.text)
    meta = page.meta
    fields: dict[str, Any] = {
        "url": meta.get("og:url") or page.canonical,
        "title": meta.get("og:title") or page.title,
        "sapo": meta.get("og:description") or meta.get("description"),
        "published": meta.get("article:published_time") or meta.get("pubdate"),
        "updated": meta.get("article:modified_time"),
        "author": meta.get("article:author") or meta.get("author"),
        "category": meta.get("article:section"),
        "tags": meta.get("keywords") or meta.get("news_keywords"),
        "images": [meta["og:image"]] if meta.get("og:image") else [],
    }
    fields.update({k: v for k, v in (_jsonld_article(page.jsonld) or {}).items() if v})
    if fields.get("body"):
        if isinstance(fields["body"], str) and isinstance(fields.get("sapo"), str):
            fields["body"] = _drop_repeated_lead(fields["body"], fields["sapo"])
    else:
        sapo, paragraphs = _lead_and_paragraphs(page, fields.get("title"), fields.get("sapo"))
        parts = classify_lines(paragraphs, has_title=True, has_sapo=bool(sapo))
        fields["body"] = parts["body"]
        fields["sapo"] = sapo or parts.get("sapo")
        fields["images"] = list(fields.get("images") or []) + page.images + parts.get("images", [])
        if not fields.get("author") and parts.get("author"):
            fields["author"] = parts["author"]
    if not fields.get("title"):
        yield Reject("file", "HTML page has no title (no og:title, <title> or JSON-LD headline)")
        return
    yield Found("file", fields)
