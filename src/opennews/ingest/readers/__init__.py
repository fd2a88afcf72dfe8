"""One reader per input format, chosen by looking at the content.

``detect`` reads the first bytes of an (already decompressed) input and names its
format; the file name only breaks ties. Readers turn a Document (or, for NDJSON
and JSON, a byte stream) into Found records and Rejects; validation happens above them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import orjson

from ..records import Document, Found, Reject
from .feed import read_feed
from .jsondoc import read_json_document, read_json_stream, read_ndjson
from .pagetext import read_headers, read_keyvalue, read_pagetext
from .webpage import read_webpage

__all__ = ["DOCUMENT_READERS", "FORMATS", "detect", "read_json_stream", "read_ndjson"]

DocumentReader = Callable[[Document], Iterator[Found | Reject]]

DOCUMENT_READERS: dict[str, DocumentReader] = {
    "json": read_json_document,
    "feed": read_feed,
    "html": read_webpage,
    "headers": read_headers,
    "keyvalue": read_keyvalue,
    "text": read_pagetext,
}
FORMATS = ("ndjson", *DOCUMENT_READERS)

_KV_LINE = re.compile(
    r"^(title|source|link|url|published date|author|tags|summary|content|time|category|description)\s*:",
    re.I,
)
_HEADER_LINE = re.compile(r"^#\s*[\w .-]+\s*=")
_FEED_ROOT = re.compile(r"<(rss|feed|rdf:rdf)[\s>]", re.I)


def detect(name: str, head: str) -> str:
    """Name the format of an input from its first characters (and, on a tie, its name)."""
    s = head.lstrip("\ufeff \t\r\n")
    lower_name = name.lower()
    if s.startswith("{"):
        first, _, rest = s.partition("\n")
        if rest.strip().startswith("{") or lower_name.endswith((".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")):
            try:
                orjson.loads(first)
                return "ndjson"
            except orjson.JSONDecodeError:
                if not rest:  # first line longer than the sample: trust the name
                    return "ndjson" if ".nd" in lower_name or ".jsonl" in lower_name else "json"
        return "json"
    if s.startswith("["):
        return "json"
    sample = s[:4000].lower()
    if s.startswith("<"):
        if "<html" in sample or sample.startswith("<!doctype html"):
            return "html"
        if _FEED_ROOT.search(sample):
            return "feed"
        return "html"
    lines = [x for x in s.splitlines()[:12] if x.strip()]
    if lines and _HEADER_LINE.match(lines[0]):
        return "headers"
    if lines and _KV_LINE.match(lines[0]) and sum(1 for x in lines if _KV_LINE.match(x)) >= 2:
        return "keyvalue"
    return "text"
