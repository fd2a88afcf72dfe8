"""Which sources and categories the archive holds: the named feeds OPML and the static files list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..archive import Archive
from .model import clean, parse_time

__all__ = ["Catalog", "read_catalog"]


@dataclass(frozen=True)
class Catalog:
    sources: tuple[str, ...]
    categories: tuple[str, ...]
    newest: datetime | None


def read_catalog(archive: Archive) -> Catalog:
    """Every source and category (not only the top ones the stats keep); callers cache it per archive state."""
    sources = {v for v in map(clean, archive.distinct("source")) if v}
    categories = {v for v in map(clean, archive.distinct("category")) if v}
    return Catalog(tuple(sorted(sources)), tuple(sorted(categories)), parse_time(archive.newest_published()))
