"""Which sources and categories the archive holds: the named feeds OPML and the static files list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson

from ..archive import Archive
from .model import clean, parse_time

__all__ = ["Catalog", "read_catalog"]


@dataclass(frozen=True)
class Catalog:
    sources: tuple[str, ...]
    categories: tuple[str, ...]
    newest: datetime | None


def read_catalog(archive: Archive) -> Catalog:
    """One pass over the current records (every source, not only the top ones the stats keep);
    callers cache it per archive state."""
    sources: set[str] = set()
    categories: set[str] = set()
    newest: datetime | None = None
    for text in archive.iter_json():
        record = orjson.loads(text)
        if source := clean(record.get("source")):
            sources.add(source)
        if category := clean(record.get("category")):
            categories.add(category)
        when = parse_time(record.get("published"))
        if when and (newest is None or when > newest):
            newest = when
    return Catalog(tuple(sorted(sources)), tuple(sorted(categories)), newest)
