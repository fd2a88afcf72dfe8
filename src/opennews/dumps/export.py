"""Streaming exports: the whole archive, what changed since a cursor, or the articles of a search.

Each export is a generator of byte chunks (see :mod:`.formats`) reading the archive in
batches, so the whole archive streams through a few hundred kilobytes of memory. Live
records are copied as stored (orjson text), never parsed, for NDJSON and JSON.

Incremental exports follow the archive's change log. A cursor is a change sequence
number: ``since`` (a moment) is turned into one, and the export says which cursor to
use next time. Every id changed in the window appears once, in the order of its last
change, as its current record, or as a tombstone (``{"id", "tombstone": true,
"withdrawn_at", "reason"}``) when it has been withdrawn, so applying an export in order
always leaves a mirror equal to the archive at the moment the export started.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import orjson

from ..archive import Archive
from ..vietnamese.dates import VN_TZ
from .formats import Format, encode

__all__ = [
    "ChangeWindow",
    "ExportError",
    "Tally",
    "changes_window",
    "parse_since",
    "stream_all",
    "stream_ids",
    "stream_since",
]

BATCH = 1000


class Tally:
    """Counts the records an export has sent (the byte chunks do not say)."""

    def __init__(self) -> None:
        self.records = 0

    def count(self, lines: Iterable[str]) -> Iterator[str]:
        for line in lines:
            self.records += 1
            yield line


def _counted(lines: Iterable[str], tally: Tally | None) -> Iterable[str]:
    return lines if tally is None else tally.count(lines)


class ExportError(ValueError):
    """An export that cannot be made as asked (bad moment, CSV with tombstones...)."""


def parse_since(text: str) -> datetime:
    """An ISO 8601 moment, in UTC; a date alone means its midnight, a moment without a zone is
    Vietnam time. One that UTC cannot hold (0001-01-01T00:00+07:00 is in year 0 there) is the
    first or last moment UTC can (every change is after the first, none after the last)."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), time())
        except ValueError:
            raise ExportError(f"since is not an ISO 8601 date or time: {text[:60]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


def _first_seq_after(archive: Archive, moment: datetime) -> int:
    return archive.first_seq_after(moment.astimezone(UTC).replace(microsecond=0).isoformat())


def _tombstones(archive: Archive, ids: Sequence[str]) -> dict[str, str]:
    return {
        i: orjson.dumps({"id": i, "tombstone": True, "withdrawn_at": at, "reason": reason, "purged": purged}).decode()
        for i, at, reason, purged in archive.withdrawal_rows(ids)
    }


@dataclass(frozen=True)
class ChangeWindow:
    """Changes with ``after < seq <= upto``; ``upto`` is the cursor for the next export."""

    after: int
    upto: int


def changes_window(archive: Archive, *, since: datetime | None = None, cursor: int | None = None) -> ChangeWindow:
    """Fix the window now, so the export is a consistent cut and the next cursor is known up front."""
    upto = archive.last_seq()
    if cursor is not None:
        if cursor < 0:
            raise ExportError("cursor must be a change number (0 or more)")
        after = min(cursor, upto)
    elif since is not None:
        after = _first_seq_after(archive, since)
    else:
        after = 0
    return ChangeWindow(after, upto)


def _changed_lines(archive: Archive, window: ChangeWindow, batch: int) -> Iterator[str]:
    seq = window.after
    while seq < window.upto:
        rows = [r for r in archive.changes_since(seq, batch) if r[0] <= window.upto]
        if not rows:
            break
        seq = rows[-1][0]
        ids = list(dict.fromkeys(i for _, i, _ in rows))
        last = archive.last_changes(ids, window.upto)
        final = [i for s, i, _ in rows if last.get(i) == s]  # each id once, at its last change
        if not final:
            continue
        records = archive.record_texts(final)
        missing = [i for i in final if i not in records]
        tombs = _tombstones(archive, missing) if missing else {}
        for i in final:
            line = records.get(i) or tombs.get(i)
            if line is not None:
                yield line


def stream_since(
    archive: Archive, window: ChangeWindow, fmt: Format = "ndjson", *, batch: int = BATCH, tally: Tally | None = None
) -> Iterator[bytes]:
    """Every article changed in ``window``: current records and tombstones."""
    if fmt == "csv":
        raise ExportError("CSV cannot carry tombstones: use format=ndjson or json for incremental exports")
    return encode(_counted(_changed_lines(archive, window, batch), tally), fmt)


def stream_all(archive: Archive, fmt: Format = "ndjson", *, tally: Tally | None = None) -> Iterator[bytes]:
    """The whole archive in archive order (the order a re-ingest keeps)."""
    if fmt != "ndjson":
        return encode(_counted(archive.iter_json(), tally), fmt)
    return _ndjson_batches(archive, tally)


def _ndjson_batches(archive: Archive, tally: Tally | None) -> Iterator[bytes]:
    """The common case, the whole archive as NDJSON, a batch of stored bytes per chunk."""
    for batch in archive.record_blobs():
        if tally is not None:
            tally.records += len(batch)
        batch.append(b"")
        yield b"\n".join(batch)


def _lines_of(archive: Archive, ids: Sequence[str], batch: int) -> Iterator[str]:
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        records = archive.record_texts(chunk)
        for i in chunk:
            line = records.get(i)
            if line is not None:  # withdrawn since the index saw it
                yield line


def stream_ids(
    archive: Archive, ids: Sequence[str], fmt: Format = "ndjson", *, batch: int = BATCH, tally: Tally | None = None
) -> Iterator[bytes]:
    """The records of ``ids`` (a search's matches), in that order."""
    return encode(_counted(_lines_of(archive, ids, batch), tally), fmt)
