"""Encodings of the record stream: NDJSON (the native form), a JSON array, CSV, Parquet.

Every function here takes the record stream as the archive stores it (one JSON text
per article, keys in :data:`~opennews.article.FIELDS` order) and yields bytes in
chunks of a few hundred kilobytes, so a writer or an HTTP response never holds more
than one chunk. NDJSON and JSON are copied as stored; only CSV and Parquet parse.

Compression: gzip always; zstd when the optional ``zstandard`` package is installed;
Parquet when ``pyarrow`` is (the ``parquet`` extra).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

import orjson

from ..article import FIELDS

__all__ = [
    "CHUNK",
    "FORMATS",
    "MEDIA_TYPES",
    "compressions",
    "compressor",
    "csv_chunks",
    "encode",
    "has_parquet",
    "json_array_chunks",
    "ndjson_chunks",
    "write_parquet",
]

Format = Literal["ndjson", "json", "csv"]
FORMATS: tuple[Format, ...] = ("ndjson", "json", "csv")
MEDIA_TYPES = {
    "ndjson": "application/x-ndjson",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
}
#: Bytes gathered before a chunk is handed on: big enough that per-chunk costs
#: (a thread hop in the web server, a syscall) vanish, small enough to stay constant.
CHUNK = 256 * 1024
#: CSV cells that hold lists are written as JSON text, as Frictionless ``array`` fields are.
_LIST_FIELDS = ("images", "tags")


def _gather(parts: Iterable[bytes], first: bytes = b"", last: bytes = b"") -> Iterator[bytes]:
    buffer = bytearray(first)
    for part in parts:
        buffer += part
        if len(buffer) >= CHUNK:
            yield bytes(buffer)
            buffer.clear()
    buffer += last
    if buffer:
        yield bytes(buffer)


def ndjson_chunks(records: Iterable[str | bytes]) -> Iterator[bytes]:
    """One record per line, exactly as stored."""
    return _gather((r if isinstance(r, bytes) else r.encode()) + b"\n" for r in records)


def json_array_chunks(records: Iterable[str | bytes]) -> Iterator[bytes]:
    """A JSON array with one record per line: valid JSON that still diffs line by line."""

    def parts() -> Iterator[bytes]:
        separator = b"\n"
        for r in records:
            yield separator + (r if isinstance(r, bytes) else r.encode())
            separator = b",\n"

    return _gather(parts(), b"[", b"\n]\n")


def csv_row(record: dict[str, Any]) -> list[Any]:
    row = []
    for name in FIELDS:
        value = record.get(name)
        if name in _LIST_FIELDS:
            value = orjson.dumps(value or []).decode()
        row.append("" if value is None else value)
    return row


def csv_chunks(records: Iterable[str | bytes]) -> Iterator[bytes]:
    """RFC 4180 CSV, UTF-8, a header of the field names; lists as JSON text in their cell."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(FIELDS)

    def parts() -> Iterator[bytes]:
        for r in records:
            writer.writerow(csv_row(orjson.loads(r)))
            if text.tell() >= CHUNK // 4:
                yield text.getvalue().encode()
                text.seek(0)
                text.truncate()
        yield text.getvalue().encode()

    return _gather(parts())


def encode(records: Iterable[str | bytes], fmt: Format) -> Iterator[bytes]:
    if fmt == "csv":
        return csv_chunks(records)
    if fmt == "json":
        return json_array_chunks(records)
    return ndjson_chunks(records)


# -- compression ------------------------------------------------------------------


def compressions() -> tuple[str, ...]:
    """The compressed forms this installation can write: ``gz``, and ``zst`` if zstandard is there."""
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return ("gz",)
    return ("gz", "zst")


def compressor(raw: IO[bytes], kind: str) -> IO[bytes]:
    """A writer compressing into ``raw`` (left open). The gzip header carries no name and
    no time, so the same records always give the same bytes and the same SHA-256."""
    if kind == "gz":
        return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0, filename="")
    if kind == "zst":
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)  # type: ignore[return-value]
    raise ValueError(f"unknown compression {kind!r}")


# -- parquet ----------------------------------------------------------------------


def has_parquet() -> bool:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def write_parquet(path: Path, records: Iterable[str | bytes], batch: int = 5000) -> int:
    """Write the records as one Parquet file (zstd-compressed row groups of ``batch`` rows).

    Dates stay ISO 8601 text, as in every other form (a date-only ``published`` is not a
    timestamp); images are a list of structs and tags a list of strings.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = pa.string()
    schema = pa.schema(
        [
            (name, pa.list_(pa.struct([("url", text), ("caption", text)])))
            if name == "images"
            else (name, pa.list_(text))
            if name == "tags"
            else (name, text)
            for name in FIELDS
        ]
    )
    count = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        rows: list[dict[str, Any]] = []
        for r in records:
            rows.append(orjson.loads(r))
            if len(rows) >= batch:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                count += len(rows)
                rows = []
        if rows or not count:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            count += len(rows)
    return count
