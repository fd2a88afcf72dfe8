"""Building the dump files: one NDJSON file per month of publication, plus a full snapshot.

A build reads the archive twice, streaming, never holding more than a record at a time:

1. a scan computes, for every part (a month, ``undated``, ``all``, the withdrawals),
   the SHA-256 of its records as they would be written, its count and its date range;
2. only parts whose digest differs from the last manifest (or whose files are missing)
   are written, each into a temporary file that is fsynced and then renamed over the
   old one. A closed month nobody touched is never rewritten: its bytes, hash and
   ``generated_at`` stay those of the day it was written, so mirrors and caches keep it.

Records are written exactly as the archive stores them, in archive order, and the gzip
header carries no time, so the same archive always gives the same bytes. The full
snapshot exists as NDJSON (gzip, zstd), CSV and, with the ``parquet`` extra, Parquet.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import io
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

from ..archive import Archive
from ..article import FIELDS
from ..vietnamese import to_vietnam
from . import manifest as manifest_mod
from .formats import compressions, compressor, csv_row, has_parquet, write_parquet

__all__ = ["BuildReport", "build_dumps", "month_of"]

#: Monthly files written in one scan of the archive; more months take more scans (each
#: open gzip stream costs a few hundred kB, and the point is a bounded footprint).
MONTHS_PER_SCAN = 24
_PUBLISHED = ',"published":'
_COMPRESSION_NAMES = {"gz": "gzip", "zst": "zstd"}


def month_of(record: str) -> str:
    """``YYYY-MM`` of the record's publication, or ``undated``, read without parsing the
    whole record (orjson writes keys in FIELDS order and escapes every quote in values,
    so the first unescaped ``,"published":`` is the key itself)."""
    at = record.find(_PUBLISHED)
    if at < 0:
        published = orjson.loads(record).get("published")
    else:
        start = at + len(_PUBLISHED)
        published = None if record.startswith("null", start) else record[start + 1 : start + 8]
    if not published or len(published) < 7 or published[4] != "-":
        return "undated"
    return published[:7]


def _published(record: str) -> str | None:
    at = record.find(_PUBLISHED)
    if at < 0:
        return orjson.loads(record).get("published")
    start = at + len(_PUBLISHED)
    if record.startswith("null", start):
        return None
    return record[start + 1 : record.index('"', start + 1)]


@dataclass
class _Part:
    """What pass 1 learns about one part: the digest of its lines, count, date range."""

    key: str
    digest: Any = field(default_factory=hashlib.sha256)
    records: int = 0
    first: str | None = None
    last: str | None = None

    def add(self, line: bytes, published: str | None) -> None:
        self.digest.update(line)
        self.records += 1
        if published:
            if self.first is None or published < self.first:
                self.first = published
            if self.last is None or published > self.last:
                self.last = published


@dataclass
class BuildReport:
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    records: int = 0
    seconds: float = 0.0


class _Sink:
    """One output file: a temporary file behind a compressor, hashed and counted as written."""

    def __init__(self, directory: Path, name: str, kind: str | None) -> None:
        self.name = name
        self.final = directory / name
        self.tmp = directory / f".{name}.tmp"
        self.raw = open(self.tmp, "wb")  # noqa: SIM115 - closed in finish/abort
        self.sha = hashlib.sha256()
        self.size = 0
        self.stream: IO[bytes] = compressor(self, kind) if kind else self  # type: ignore[arg-type]

    # the compressor writes here
    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self.raw.write(data)
        return len(data)

    def flush(self) -> None:
        self.raw.flush()

    def finish(self) -> tuple[int, str]:
        if self.stream is not self:
            self.stream.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        os.replace(self.tmp, self.final)
        return self.size, self.sha.hexdigest()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            if self.stream is not self:
                self.stream.close()
        self.raw.close()
        self.tmp.unlink(missing_ok=True)


class _CsvSink(_Sink):
    def __init__(self, directory: Path, name: str, kind: str) -> None:
        super().__init__(directory, name, kind)
        self.text = io.TextIOWrapper(self.stream, encoding="utf-8", newline="", write_through=False)
        self.csv = csv.writer(self.text, lineterminator="\r\n")
        self.csv.writerow(FIELDS)

    def record(self, line: str) -> None:
        self.csv.writerow(csv_row(orjson.loads(line)))

    def finish(self) -> tuple[int, str]:
        self.text.flush()
        self.text.detach()
        return super().finish()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_names(key: str, kinds: tuple[str, ...], parquet: bool) -> list[str]:
    if key == "withdrawals":
        return [f"withdrawals.ndjson.{k}" for k in kinds]
    names = [f"articles-{key}.ndjson.{k}" for k in kinds]
    if key == "all":
        names.append("articles-all.csv.gz")
        if parquet:
            names.append("articles-all.parquet")
    return names


def _scan(archive: Archive, withdrawals: list[dict[str, Any]]) -> dict[str, _Part]:
    parts: dict[str, _Part] = {"all": _Part("all")}
    everything = parts["all"]
    for record in archive.iter_json():
        line = record.encode() + b"\n"
        published = _published(record)
        key = month_of(record)
        part = parts.get(key)
        if part is None:
            part = parts[key] = _Part(key)
        part.add(line, published)
        everything.add(line, published)
    tombs = _Part("withdrawals")
    for line in _withdrawal_lines(withdrawals):
        tombs.add(line, None)
    parts["withdrawals"] = tombs
    return parts


def _withdrawal_lines(withdrawals: list[dict[str, Any]]) -> Iterator[bytes]:
    for tomb in withdrawals:
        fields = {k: v for k, v in tomb.items() if k != "id"}
        yield orjson.dumps({"id": tomb["id"], "tombstone": True, **fields}) + b"\n"


def _unchanged(
    previous: dict[str, dict[str, Any]], directory: Path, part: _Part, names: list[str]
) -> list[dict[str, Any]] | None:
    """The previous manifest entries of a part if its records and files are exactly as then."""
    entries = [previous.get(n) for n in names]
    if any(e is None or e.get("digest") != part.digest.hexdigest() for e in entries):
        return None
    for e in entries:
        assert e is not None
        try:
            if (directory / e["name"]).stat().st_size != e["bytes"]:
                return None
        except OSError:
            return None
    return entries  # type: ignore[return-value]


def _entry(name: str, part: _Part, size: int, sha: str, now: str, closed: bool) -> dict[str, Any]:
    fmt = "parquet" if name.endswith(".parquet") else "csv" if ".csv" in name else "ndjson"
    kind = name.rsplit(".", 1)[-1]
    return {
        "name": name,
        "part": part.key,
        "format": fmt,
        "compression": _COMPRESSION_NAMES.get(kind),
        "records": part.records,
        "bytes": size,
        "sha256": sha,
        "first_published": part.first,
        "last_published": part.last,
        "generated_at": now,
        "closed": closed,
        "digest": part.digest.hexdigest(),
    }


def _write_group(
    archive: Archive,
    directory: Path,
    group: list[_Part],
    kinds: tuple[str, ...],
    now: str,
    current_month: str,
) -> Iterator[dict[str, Any]]:
    """Write the parts of ``group`` in one scan of the archive; yield their manifest entries."""
    by_key = {p.key: p for p in group}
    sinks: dict[str, list[_Sink]] = {
        p.key: [_Sink(directory, f"articles-{p.key}.ndjson.{k}", k) for k in kinds] for p in group
    }
    table = _CsvSink(directory, "articles-all.csv.gz", "gz") if "all" in by_key else None
    everything = sinks.get("all", [])
    try:
        for record in archive.iter_json():
            line = record.encode() + b"\n"
            for sink in sinks.get(month_of(record), ()):
                sink.stream.write(line)
            for sink in everything:
                sink.stream.write(line)
            if table is not None:
                table.record(record)
        finished = [(key, s, *s.finish()) for key, ss in sinks.items() for s in ss]
        if table is not None:
            finished.append(("all", table, *table.finish()))
    except BaseException:
        for ss in sinks.values():
            for s in ss:
                s.abort()
        if table is not None:
            table.abort()
        raise
    for key, sink, size, sha in finished:
        closed = key not in ("all", "undated") and key < current_month
        yield _entry(sink.name, by_key[key], size, sha, now, closed)


def _write_withdrawals(
    directory: Path, part: _Part, withdrawals: list[dict[str, Any]], kinds: tuple[str, ...], now: str
) -> Iterator[dict[str, Any]]:
    for kind in kinds:
        sink = _Sink(directory, f"withdrawals.ndjson.{kind}", kind)
        try:
            for line in _withdrawal_lines(withdrawals):
                sink.stream.write(line)
            size, sha = sink.finish()
        except BaseException:
            sink.abort()
            raise
        yield _entry(sink.name, part, size, sha, now, False)


def _write_parquet(archive: Archive, directory: Path, part: _Part, now: str) -> dict[str, Any]:
    final = directory / "articles-all.parquet"
    tmp = directory / ".articles-all.parquet.tmp"
    try:
        write_parquet(tmp, archive.iter_json())
        sha = hashlib.sha256()
        with open(tmp, "rb") as f:
            while block := f.read(1 << 20):
                sha.update(block)
            os.fsync(f.fileno())
        size = tmp.stat().st_size
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _entry(final.name, part, size, sha.hexdigest(), now, False)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One build at a time per folder (two ingests finishing together would race on the files)."""
    with open(directory / ".lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def build_dumps(
    archive: Archive,
    directory: Path,
    *,
    force: bool = False,
    kinds: Iterable[str] | None = None,
    parquet: bool | None = None,
    now: datetime | None = None,
) -> BuildReport:
    """Bring the dump files in ``directory`` up to date with the archive.

    ``force`` rewrites every part; ``kinds`` chooses the compressions (default: all
    installed); ``parquet`` defaults to whether pyarrow is installed.
    """
    started = time.monotonic()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    kinds = tuple(kinds) if kinds is not None else compressions()
    parquet = has_parquet() if parquet is None else parquet
    moment = to_vietnam(now or datetime.now().astimezone())
    stamp = moment.replace(microsecond=0).isoformat()
    current_month = moment.strftime("%Y-%m")
    report = BuildReport()
    # One read transaction for every pass: the files and the position the manifest records
    # ("last_change", which the home's sync follows) describe one state of the archive.
    with _locked(directory), archive.snapshot():
        old = manifest_mod.load_manifest(directory)
        previous = {e["name"]: e for e in (old or {}).get("files", [])}
        withdrawals = archive.withdrawals()
        parts = _scan(archive, withdrawals)
        report.records = parts["all"].records
        entries: list[dict[str, Any]] = []
        stale: list[_Part] = []
        for key in sorted(parts):
            part = parts[key]
            if key != "all" and key != "withdrawals" and part.records == 0:
                continue
            names = _file_names(key, kinds, parquet)
            kept = None if force else _unchanged(previous, directory, part, names)
            if kept is not None:
                for e in kept:
                    closed = key not in ("all", "undated", "withdrawals") and key < current_month
                    entries.append({**e, "closed": closed})
                report.kept.extend(names)
            else:
                stale.append(part)
        months = [p for p in stale if p.key not in ("withdrawals",)]
        for i in range(0, len(months), MONTHS_PER_SCAN):
            for entry in _write_group(archive, directory, months[i : i + MONTHS_PER_SCAN], kinds, stamp, current_month):
                entries.append(entry)
                report.written.append(entry["name"])
        if any(p.key == "all" for p in stale) and parquet:
            entry = _write_parquet(archive, directory, parts["all"], stamp)
            entries.append(entry)
            report.written.append(entry["name"])
        if any(p.key == "withdrawals" for p in stale):
            for entry in _write_withdrawals(directory, parts["withdrawals"], withdrawals, kinds, stamp):
                entries.append(entry)
                report.written.append(entry["name"])
        entries.sort(key=lambda e: e["name"])
        info = {"articles": parts["all"].records, "withdrawn": len(withdrawals), "last_change": archive.last_seq()}
        manifest_mod.write_metadata(directory, entries, info, stamp)
        current = {e["name"] for e in entries}
        for name in previous:
            if name not in current and manifest_mod.is_dump_name(name):
                (directory / name).unlink(missing_ok=True)
                report.removed.append(name)
        _fsync_dir(directory)
    report.seconds = time.monotonic() - started
    return report
