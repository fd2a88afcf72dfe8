"""HTTP caching for feed documents, without a web framework: validators and the 304 decision.

A document is rendered once per archive state and kept as bytes (and gzipped bytes), so
answering is a dictionary lookup. The ETag is a hash of the bytes (a strong validator:
the same bytes always get the same tag, whenever they were built); ``Last-Modified`` is
the newest change to an item, never the build time.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from .. import conditional

__all__ = ["Document", "make_document", "not_modified"]


@dataclass(frozen=True, slots=True)
class Document:
    body: bytes
    gzipped: bytes
    media_type: str
    etag: str  # quoted, of the identity bytes
    etag_gzip: str  # a different strong tag for the gzip representation
    last_modified: str  # HTTP date
    modified_at: int  # epoch seconds of last_modified
    max_age: int

    @property
    def cache_control(self) -> str:
        return f"public, max-age={self.max_age}"

    def headers(self, *, gzipped: bool) -> dict[str, str]:
        out = {
            "etag": self.etag_gzip if gzipped else self.etag,
            "last-modified": self.last_modified,
            "cache-control": self.cache_control,
            "vary": "Accept-Encoding",
        }
        if gzipped:
            out["content-encoding"] = "gzip"
        return out


def make_document(body: bytes, media_type: str, modified: datetime, max_age: int) -> Document:
    digest = hashlib.blake2b(body, digest_size=16).hexdigest()
    when = int(modified.timestamp())
    return Document(
        body=body,
        gzipped=gzip.compress(body, compresslevel=6, mtime=0),  # mtime 0: same bytes, same gzip
        media_type=media_type,
        etag=f'"{digest}"',
        etag_gzip=f'"{digest}-gz"',
        last_modified=format_datetime(datetime.fromtimestamp(when, UTC), usegmt=True),
        modified_at=when,
        max_age=max_age,
    )


def not_modified(doc: Document, if_none_match: str | None, if_modified_since: str | None) -> bool:
    """RFC 9110 §13.2.2, weak comparison: either representation's tag matches (the content is the same)."""
    return conditional.not_modified((doc.etag, doc.etag_gzip), doc.modified_at, if_none_match, if_modified_since)
