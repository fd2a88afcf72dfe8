"""Every copy derived from the archive, brought up to date from the change log.

Each copy records the change-log position it reflects and, when the log has moved
past it, brings itself up to date from there:

- the search **index** (and its vocabulary): position in the live generation's
  ``state.json``; see :mod:`opennews.search.indexer`;
- the static **feeds** in ``feeds/``: position in ``feeds/.state.json``, with the
  base URL their links use; only the feeds of the sources and categories whose
  articles changed are rewritten (all of them when a purged article's place is
  unknown, or the base URL changed). They are read through the index, so they
  follow the index's position, not the archive's;
- the **dumps** in ``dumps/``: position in ``manifest.json`` (``archive.last_change``);
  unchanged months are kept as they are.

A sync holds the home's sync lock while it brings the index and feeds up to date, and
its dumps lock while it writes the dumps, so the command that changed the archive and a
running server that noticed the change never bring the same copies up to date at once:
the second waits (or, for a server, skips: the first does the work), and a long dumps
rewrite does not hold up the index.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .archive import Archive
from .files import write_atomically

__all__ = ["PARTS", "DumpsCopy", "FeedsCopy", "PartReport", "SyncReport", "affected_feeds", "chosen"]

#: The derived copies, in the order a sync brings them up to date (feeds read the index).
PARTS = ("index", "feeds", "dumps")


@dataclass
class PartReport:
    name: str
    before: int | None  # position before the sync (None: never built)
    after: int
    seconds: float = 0.0
    detail: str = ""


@dataclass
class SyncReport:
    target: int = 0  # the archive's position when the sync began
    parts: list[PartReport] = field(default_factory=list)
    busy: str | None = None  # another sync held the lock and this one did not wait
    seconds: float = 0.0


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def affected_feeds(archive: Archive, since: int, upto: int) -> set[tuple[str, str]] | None:
    """The (kind, name) source and category feeds whose articles changed after ``since``
    (up to ``upto``): where each changed article is now and where it was before. None
    when some article's place is unknown (purged): then every feed may hold it."""
    from .feeds.model import clean

    ids: list[str] = []
    last = since
    while last < upto and (batch := archive.changes_since(last, limit=10_000)):
        ids += [article_id for seq, article_id, _kind in batch if seq <= upto]
        last = batch[-1][0]
    ids = list(dict.fromkeys(ids))
    current = archive.get_records(ids)
    before = archive.last_versions(ids)
    out: set[tuple[str, str]] = set()
    for article_id in ids:
        places = [r for r in (current.get(article_id), before.get(article_id)) if r is not None]
        if not places:
            tomb = archive.withdrawal(article_id)
            if tomb is not None and tomb["purged"]:
                return None
            continue
        for record in places:
            for kind in ("source", "category"):
                name = clean(record.get(kind) or "")
                if name:
                    out.add((kind, name))
    return out


class FeedsCopy:
    """The static feed files of a home, following the index's position."""

    name = "feeds"

    def __init__(self, directory: Path, base_url: str) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        self.state_path = directory / ".state.json"

    def recorded(self) -> dict[str, Any]:
        """What the last write recorded: its position and base URL (empty if never written)."""
        return _read_json(self.state_path) or {}

    def position(self) -> int | None:
        state = self.recorded()
        if state.get("base_url") != self.base_url:
            return None
        return int(state.get("last_seq", 0))

    def sync(self, archive: Archive, searcher: Any, upto: int, *, everything: bool = False) -> PartReport:
        from .feeds import ArchiveReader, write_static

        before = self.position()
        started = time.monotonic()
        only = affected_feeds(archive, before, upto) if before is not None and not everything else None
        reader = ArchiveReader(searcher, archive)
        report = write_static(self.directory, reader, reader.catalog(), self.base_url, only=only)
        write_atomically(self.state_path, orjson.dumps({"last_seq": upto, "base_url": self.base_url}))
        detail = (
            f"{len(report.written):,} files written, {report.unchanged:,} unchanged, {len(report.removed):,} removed"
        )
        if report.left_to_app:
            detail += f", {len(report.left_to_app):,} feeds served by the app only (names with no file)"
        return PartReport(self.name, before, upto, time.monotonic() - started, detail)


class DumpsCopy:
    """The dump files of a home, following the archive's position."""

    name = "dumps"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def position(self) -> int | None:
        manifest = _read_json(self.directory / "manifest.json")
        if manifest is None:
            return None
        return int((manifest.get("archive") or {}).get("last_change", 0))

    def sync(self, archive: Archive, *, force: bool = False) -> PartReport:
        from .dumps import build_dumps

        before = self.position()
        report = build_dumps(archive, self.directory, force=force)
        detail = f"{len(report.written)} files written, {len(report.kept)} unchanged, {len(report.removed)} removed"
        return PartReport(self.name, before, self.position() or 0, report.seconds, detail)


def chosen(parts: Iterable[str] | None) -> tuple[str, ...]:
    wanted = tuple(PARTS if parts is None else parts)
    unknown = set(wanted) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts: {', '.join(sorted(unknown))}")
    return wanted
