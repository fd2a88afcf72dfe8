"""The article: one record shape for the archive, the API, feeds and dumps.

``make_article`` is the single door into that shape. Every reader hands it a plain
mapping of whatever it found; it cleans the text (safe clean-up only: what readers
see is kept), parses dates, checks what a record must have, and derives the stable
``id`` and the ``content_hash`` that versioning compares.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urljoin, urlsplit, urlunsplit

import orjson

from .vietnamese import clean, parse_datetime, to_vietnam

__all__ = [
    "FIELDS",
    "Article",
    "Image",
    "ValidationError",
    "article_id",
    "canonical_url",
    "content_hash",
    "make_article",
    "source_from_url",
    "strip_tracking",
]

#: The record's keys, in the order every serialisation uses.
FIELDS = (
    "id",
    "url",
    "source",
    "category",
    "title",
    "sapo",
    "body",
    "author",
    "published",
    "updated",
    "lang",
    "images",
    "tags",
    "content_hash",
    "ingested_at",
)

MAX_TITLE = 1_000
MAX_SHORT = 500  # source, category, author, tag, caption
MAX_SAPO = 10_000
MAX_BODY = 1_000_000
MAX_IMAGES = 200
MAX_TAGS = 100

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}$")
# Query parameters that say how a reader arrived, never which article: ad and social
# click ids, campaign tags, analytics cookies carried in links. Dropped from the stored url.
_TRACKING = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|ysclid|twclid|ttclid|li_fat_id|igshid|igsh|"
    r"mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id|zarsrc|ref_src)$",
    re.I,
)
# The ones the id ignores: frozen, because a name added here would give every article
# already archived from a URL carrying it a second id when its source is read again.
_ID_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|zarsrc|_ga|mc_cid|mc_eid|ref_src|igshid)$", re.I)
_SECOND_LEVEL = {"com", "net", "org", "gov", "edu", "ac", "info", "biz", "name", "pro", "health", "int", "co"}
_UNTIDY_LINE = re.compile(r"\s{2}|[\t\n]|^\s|\s$")
_ABSOLUTE_URL = re.compile(r"https?://[^/\s?#]+\S*", re.I)


def _is_tidy_body(text: str) -> bool:
    """True when paragraphs are already joined by exactly one blank line, with no
    stray whitespace: the common case, checked with a few C-speed scans."""
    if not text or text[0].isspace() or text[-1].isspace():
        return not text
    if "  " in text or "\t" in text or " \n" in text or "\n " in text or "\n\n\n" in text:
        return False
    return text.count("\n") == 2 * text.count("\n\n")


class ValidationError(ValueError):
    """A record that cannot enter the archive; the message says why, for the rejects file."""


@dataclass(frozen=True, slots=True)
class Image:
    """A picture of the article: its absolute URL (when known) and caption."""

    url: str | None
    caption: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"url": self.url, "caption": self.caption}


@dataclass(frozen=True, slots=True)
class Article:
    """An archived news article. Build it with :func:`make_article`, not directly."""

    id: str
    url: str | None
    source: str
    category: str | None
    title: str
    sapo: str | None
    body: str
    author: str | None
    published: datetime | date | None
    updated: datetime | date | None
    lang: str
    images: tuple[Image, ...] = ()
    tags: tuple[str, ...] = ()
    content_hash: str = ""
    ingested_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready values, keys in :data:`FIELDS` order."""
        return {
            "id": self.id,
            "url": self.url,
            "source": self.source,
            "category": self.category,
            "title": self.title,
            "sapo": self.sapo,
            "body": self.body,
            "author": self.author,
            "published": _iso(self.published),
            "updated": _iso(self.updated),
            "lang": self.lang,
            "images": [i.to_dict() for i in self.images],
            "tags": list(self.tags),
            "content_hash": self.content_hash,
            "ingested_at": _iso(self.ingested_at),
        }

    def to_json(self) -> bytes:
        """One NDJSON line (without the newline): the dump and export format."""
        return orjson.dumps(self.to_dict())

    @property
    def paragraphs(self) -> list[str]:
        return self.body.split("\n\n") if self.body else []


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


# -- URLs and ids ---------------------------------------------------------------


def _is_tracking(pair: str, names: re.Pattern[str]) -> bool:
    # The name decoded as parse_qsl decodes it, so "utm%5Fsource" is caught too.
    return bool(names.match(unquote_plus(pair.partition("=")[0])))


def strip_tracking(url: str, names: re.Pattern[str] = _TRACKING) -> str:
    """The URL without its tracking parameters (utm_*, fbclid, gclid…); all else as given.

    The stored ``url`` and the id (:func:`canonical_url`) both come from here; the id
    with its own, frozen list of names. Other parameters keep their order and their
    exact spelling ("?id=123", "q=a%20b"); a URL without tracking parameters comes
    back untouched.
    """
    head, hashmark, fragment = url.partition("#")
    base, qmark, query = head.partition("?")
    if not qmark:
        return url
    pairs = query.split("&")
    kept = [pair for pair in pairs if not _is_tracking(pair, names)]
    if len(kept) == len(pairs):
        return url
    query = "&".join(kept)
    return f"{base}?{query}{hashmark}{fragment}" if query else f"{base}{hashmark}{fragment}"


def canonical_url(url: str) -> str:
    """The form of a URL that identifies an article: lower-case host, no fragment,
    no default port, no tracking parameters. Raises ValidationError if not absolute."""
    url = url.strip()
    parts = urlsplit(strip_tracking(url, _ID_TRACKING))
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"url is not an absolute http(s) URL: {url[:200]!r}")
    host = parts.hostname.lower().rstrip(".")
    port = parts.port if parts.port not in (None, 80, 443) else None
    netloc = f"{host}:{port}" if port else host
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", query, ""))


def source_from_url(url: str) -> str:
    """The outlet as its registrable domain: video.vnexpress.net -> vnexpress.net,
    www.baochinhphu.gov.vn -> baochinhphu.gov.vn."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    labels = [x for x in host.split(".") if x]
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:]) if labels else "unknown"


def content_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 over the content fields (not id, ingest time or the hash itself).

    Equal hashes mean a re-ingest is a no-op; a different hash is a new version.
    """
    payload = [record.get(k) for k in FIELDS if k not in ("id", "content_hash", "ingested_at")]
    return hashlib.sha256(orjson.dumps(payload)).hexdigest()


def article_id(url: str | None, source: str, digest: str) -> str:
    """The stable id: from the canonical URL when there is one, else from source and
    content. 16 hex digits; it never spells the headline."""
    key = f"url:{canonical_url(url)}" if url else f"content:{source}\n{digest}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


# -- cleaning -------------------------------------------------------------------


def _text(value: Any, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value if v)
    if not isinstance(value, str):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        else:
            raise ValidationError(f"{name} must be text, not {type(value).__name__}")
    value = clean(value)
    if _UNTIDY_LINE.search(value):
        value = " ".join(value.split())
    if len(value) > limit:
        raise ValidationError(f"{name} is too long ({len(value):,} characters; limit {limit:,})")
    return value or None


def _body(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = "\n".join(str(v) for v in value if v)
    if not isinstance(value, str):
        raise ValidationError(f"body must be text, not {type(value).__name__}")
    if len(value) > MAX_BODY * 2:
        raise ValidationError(f"body is too long ({len(value):,} characters; limit {MAX_BODY:,})")
    value = clean(value)
    if not _is_tidy_body(value):
        # Every non-empty line is a paragraph; paragraphs are joined by one blank line.
        value = "\n\n".join(" ".join(line.split()) for line in value.split("\n") if line.strip())
    if len(value) > MAX_BODY:
        raise ValidationError(f"body is too long ({len(value):,} characters; limit {MAX_BODY:,})")
    return value


def _when(value: Any, name: str) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError(f"{name} has no time zone: {value.isoformat()}")
        return to_vietnam(value)
    if isinstance(value, date):
        return value
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise ValidationError(f"{name}: {exc}") from None


def _images(value: Any, base: str | None) -> tuple[Image, ...]:
    if not value:
        return ()
    if isinstance(value, (str, Mapping)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"images must be a URL, an object or a list of them, not {type(value).__name__}")
    out: list[Image] = []
    seen: set[tuple[str | None, str | None]] = set()
    for item in value:
        if isinstance(item, str):
            url, caption = item, None
        elif isinstance(item, Mapping):
            url, caption = item.get("url") or item.get("src"), item.get("caption") or item.get("alt")
        else:
            raise ValidationError(f"images: each image must be a URL or an object, not {type(item).__name__}")
        url = _image_url(url, base)
        caption = _text(caption, "image caption", MAX_SHORT)
        if (url or caption) and (url, caption) not in seen:
            seen.add((url, caption))
            out.append(Image(url, caption))
    if len(out) > MAX_IMAGES:
        raise ValidationError(f"too many images ({len(out)}; limit {MAX_IMAGES})")
    return tuple(out)


def _image_url(url: Any, base: str | None) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    url = clean(url).strip()
    if base and not urlsplit(url).scheme:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"image url is not absolute: {url[:200]!r}")
    return url


def _tags(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"tags must be text or a list of texts, not {type(value).__name__}")
    out: dict[str, None] = {}
    for tag in value:
        text = _text(tag, "tag", MAX_SHORT)
        if text:
            out[text] = None
    if len(out) > MAX_TAGS:
        raise ValidationError(f"too many tags ({len(out)}; limit {MAX_TAGS})")
    return tuple(out)


def make_article(
    fields: Mapping[str, Any],
    *,
    default_source: str | None = None,
    ingested_at: datetime | None = None,
) -> Article:
    """Validate and normalise one record; raise :class:`ValidationError` if it can't be kept.

    Required: a title, and a body or a sapo (a sapo alone becomes the body too, so
    every article has text to read). Dates must carry or imply a zone. A URL, if
    present, must be absolute. An ``id`` already present (our own dumps) is kept.
    """
    if not isinstance(fields, Mapping):
        raise ValidationError(f"a record must be an object, not {type(fields).__name__}")
    title = _text(fields.get("title"), "title", MAX_TITLE)
    if not title:
        raise ValidationError("missing title")
    sapo = _text(fields.get("sapo"), "sapo", MAX_SAPO)
    body = _body(fields.get("body"))
    if not body:
        if not sapo:
            raise ValidationError("missing body and sapo")
        body = sapo

    raw_url = fields.get("url")
    url = given_url = None
    if raw_url not in (None, ""):
        if not isinstance(raw_url, str):
            raise ValidationError(f"url must be text, not {type(raw_url).__name__}")
        url = clean(raw_url).strip()
        if not _ABSOLUTE_URL.fullmatch(url):
            raise ValidationError(f"url is not an absolute http(s) URL: {url[:200]!r}")
        given_url, url = url, strip_tracking(url)
    source = _text(fields.get("source"), "source", MAX_SHORT) or default_source
    if not source:
        source = source_from_url(url) if url else "unknown"
    lang = _text(fields.get("lang"), "lang", 35) or "vi"

    record: dict[str, Any] = {
        "url": url,
        "source": source,
        "category": _text(fields.get("category"), "category", MAX_SHORT),
        "title": title,
        "sapo": sapo,
        "body": body,
        "author": _text(fields.get("author"), "author", MAX_SHORT),
        "published": _when(fields.get("published"), "published"),
        "updated": _when(fields.get("updated"), "updated"),
        "lang": lang,
        "images": _images(fields.get("images"), url),
        "tags": _tags(fields.get("tags")),
    }
    digest = content_hash(
        {
            **record,
            "published": _iso(record["published"]),
            "updated": _iso(record["updated"]),
            "images": [i.to_dict() for i in record["images"]],
            "tags": list(record["tags"]),
        }
    )
    given_id = fields.get("id")
    if given_id not in (None, ""):
        if not isinstance(given_id, str) or not _ID_RE.match(given_id):
            raise ValidationError(f"id must be 1-128 letters, digits or ._:~- : {str(given_id)[:80]!r}")
        ident = given_id
    else:
        ident = article_id(given_url, source, digest)  # as given: the id drops its own names

    when = ingested_at or datetime.now(UTC).replace(microsecond=0)
    given_ingested = fields.get("ingested_at")
    if given_ingested:
        parsed = _when(given_ingested, "ingested_at")
        if isinstance(parsed, datetime):
            when = parsed.astimezone(UTC)
    return Article(id=ident, content_hash=digest, ingested_at=when, **record)
