"""Plain-text articles: page-text dumps, "Key: value" files, "# key = value" headers.

Page-text is what copying a news page as text gives: a language switch, a date
line, the title, the lead, photo captions among body paragraphs, the author line,
then share buttons and footer. Each line is classified by what it looks like
(:mod:`.pagelines`), so the body never carries navigation or share text. The same
classifier reads the simpler one-line-per-paragraph dumps (title, sapo, body
lines) and word-segmented corpora ("Hà_Nội" becomes "Hà Nội").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..records import Document, Found, Reject
from .pagelines import classify_lines, strip_inline_footer

__all__ = ["desegment", "read_headers", "read_keyvalue", "read_pagetext", "strip_inline_footer"]

_SEGMENTED = re.compile(r"(?<=[^\W\d_])_(?=[^\W\d_])")
_DOC_ID_SECTION = re.compile(r"^news_([a-z]+)_\d+$")
_HEADER = re.compile(r"^#\s*([\w .-]{1,60}?)\s*=\s*(.*)$")  # bounded: lazy, it rescanned blank runs
_KEY_VALUE = re.compile(r"^([A-Za-z][A-Za-z ]{0,30}):\s?(.*)$")

_KV_FIELDS = {
    "title": "title",
    "source": "_outlet",
    "link": "url",
    "url": "url",
    "published date": "published",
    "published": "published",
    "date": "published",
    "time": "published",
    "author": "author",
    "tags": "tags",
    "keywords": "tags",
    "summary": "sapo",
    "sapo": "sapo",
    "description": "sapo",
    "category": "category",
    "content": "body",
    "body": "body",
}
_HEADER_FIELDS = {
    "url": "url",
    "date": "published",
    "published": "published",
    "title": "title",
    "author": "author",
    "category": "category",
    "source": "source",
    "doc_id": "_doc_id",
}


def desegment(text: str) -> str:
    """Undo word segmentation ("Hà_Nội" -> "Hà Nội"); other underscores stay."""
    return _SEGMENTED.sub(" ", text)


def _is_segmented(text: str) -> bool:
    return len(_SEGMENTED.findall(text[:20000])) >= 3


# Blank space that holds a line break: the lines in it are blank, and blank lines are
# dropped when the lines are read (``classify_lines``), so a run becomes one break first.
# Splitting 16 MiB of newlines into lines made two lists of 16 Mi strings (+298 MiB).
# (?<!\s): the search starts where a blank run starts, never inside one (linear).
_BLANK_RUN = re.compile(r"(?<!\s)\s*[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]\s*")


def _lines(text: str) -> list[str]:
    """The lines of page text, blank runs collapsed: what ``classify_lines`` reads the same."""
    return _BLANK_RUN.sub("\n", text).splitlines()


def read_pagetext(doc: Document) -> Iterator[Found | Reject]:
    """One article per file, laid out as page text or title/sapo/body lines."""
    text = desegment(doc.text) if _is_segmented(doc.text) else doc.text
    fields = classify_lines(_lines(text))
    yield Found("file", fields)


def read_headers(doc: Document) -> Iterator[Found | Reject]:
    """ "# key = value" header lines, then the article as lines (title, sapo, body)."""
    lines = _lines(doc.text)
    meta: dict[str, Any] = {}
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
        m = _HEADER.match(lines[i].strip())
        if m and m.group(1).strip().lower() in _HEADER_FIELDS:
            meta[_HEADER_FIELDS[m.group(1).strip().lower()]] = m.group(2).strip()
        i += 1
    rest = "\n".join(lines[i:])
    if _is_segmented(rest):
        rest = desegment(rest)
    fields = classify_lines(rest.splitlines(), has_title="title" in meta)
    for key, value in meta.items():
        if not key.startswith("_") and value:
            fields[key] = value
    section = _DOC_ID_SECTION.match(meta.get("_doc_id", ""))
    if section and not fields.get("category"):
        fields["category"] = section.group(1)
    yield Found("file", fields)


def read_keyvalue(doc: Document) -> Iterator[Found | Reject]:
    """ "Title: … / Link: … / Content: …" files; a paired ``.body.txt`` supplies the body."""
    parts: dict[str, list[str]] = {}  # joined at the end: a concatenation per line was quadratic
    current: str | None = None
    for raw in doc.text.splitlines():
        m = _KEY_VALUE.match(raw)
        key = m.group(1).strip().lower() if m else None
        if key in _KV_FIELDS:
            current = _KV_FIELDS[key]
            parts[current] = [m.group(2).strip()]  # type: ignore[union-attr]
        elif current in ("body", "sapo") and raw.strip():
            parts[current].append(raw.strip())
    fields: dict[str, Any] = {key: "\n".join(values) for key, values in parts.items()}
    if "body" in doc.extras:
        fields["body"] = doc.extras["body"]
    if isinstance(fields.get("body"), str):
        lines = fields["body"].rstrip().split("\n")
        lines[-1] = strip_inline_footer(lines[-1])
        fields["body"] = "\n".join(lines)
    for key in ("title", "sapo"):
        if isinstance(fields.get(key), str) and _SEGMENTED.search(fields[key]):
            fields[key] = desegment(fields[key]).strip()
    if fields.get("published", "").strip().upper() in ("N/A", "NA", "NONE", "NULL", "-"):
        fields["published"] = None
    outlet = fields.pop("_outlet", None)
    title = fields.get("title")
    if outlet and isinstance(title, str):
        # "Headline - VnExpress Đời sống": the outlet's name is not part of the headline.
        fields["title"] = re.sub(rf"(?<!\s)\s+[-–|]\s+{re.escape(outlet)}(?:\s+[^-–|]{{1,30}})?$", "", title)
    if isinstance(fields.get("author"), str) and not fields["author"].strip():
        fields["author"] = None
    yield Found("file", fields)
