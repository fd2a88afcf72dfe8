"""What readers produce: found records (not yet validated) and rejects; what stops an input."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["BadInput", "Document", "Found", "Reject", "excerpt"]


class BadInput(Exception):
    """A whole input (or its tail) that cannot be read; the message is the reason."""

    def __init__(self, reason: str, where: str = "file") -> None:
        super().__init__(reason)
        self.reason = reason
        self.where = where


@dataclass(frozen=True, slots=True)
class Found:
    """A record a reader found, and where it was in the input.

    Either ``fields`` (a plain mapping) or ``raw`` (the record's bytes, e.g. one
    NDJSON line) is set. Raw records are parsed later, in parallel, and only when
    the archive has not already seen those exact bytes.
    """

    where: str
    fields: dict[str, Any] | None
    raw: bytes | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    """Something that could not enter the archive, and why: kept in the rejects file."""

    where: str
    reason: str
    excerpt: str = ""
    input: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"input": self.input, "where": self.where, "reason": self.reason, "excerpt": self.excerpt}


@dataclass(slots=True)
class Document:
    """A whole decoded input handed to a document reader."""

    name: str
    text: str
    encoding: str = "utf-8"
    extras: dict[str, str] = field(default_factory=dict)  # e.g. a paired body file's text


def excerpt(text: str | bytes, limit: int = 160) -> str:
    """A short, printable sample of bad input for the rejects file."""
    if isinstance(text, bytes):
        text = text[: limit * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
