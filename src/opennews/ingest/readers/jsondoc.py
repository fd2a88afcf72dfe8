"""NDJSON / JSON Lines (streamed, constant memory) and JSON documents.

A JSON document may be one object, an array of objects, several arrays or
objects one after another, or an object wrapping a list ("articles", "items").
A document cut off in the middle still yields every object before the cut.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from ..inputs import BadInput, _plausible
from ..records import Document, Found, Reject, excerpt
from .jsonmap import map_object

__all__ = ["parse_ndjson_line", "read_json_document", "read_ndjson"]

_WRAPPER_KEYS = ("articles", "items", "data", "results", "records", "docs", "entries", "news")


def _decode_line(line: bytes) -> tuple[Any, str | None]:
    """Parse one line; returns (object, encoding note). Raises ValueError with a reason."""
    try:
        return orjson.loads(line), None
    except orjson.JSONDecodeError as exc:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as uexc:
            text = line.decode("cp1258", "replace")
            if "\ufffd" in text or not _plausible(text):
                raise ValueError(f"undecodable bytes (not UTF-8 at byte {uexc.start} of the line)") from None
            try:
                return json.loads(text), "windows-1258"
            except json.JSONDecodeError as jexc:
                raise ValueError(f"invalid JSON: {jexc.msg} at column {jexc.colno}") from None
        raise ValueError(f"invalid JSON: {exc}") from None


def read_ndjson(stream: BinaryIO, *, max_record_bytes: int) -> Iterator[Found | Reject]:
    """One record per line, streamed: memory stays flat whatever the file size.

    Lines come out raw; :func:`parse_ndjson_line` turns them into fields later.
    """
    lineno = 0
    while True:
        try:
            line = stream.readline(max_record_bytes + 1)
        except BadInput as exc:
            yield Reject(exc.where, exc.reason)
            return
        if not line:
            return
        lineno += 1
        if len(line) > max_record_bytes and not line.endswith(b"\n"):
            size = len(line)
            try:
                while line and not line.endswith(b"\n"):
                    line = stream.readline(1 << 20)
                    size += len(line)
            except BadInput as exc:
                yield Reject(exc.where, exc.reason)
                return
            yield Reject(f"line {lineno}", f"record too long ({size:,} bytes; limit {max_record_bytes:,})")
            continue
        if line.strip():
            yield Found(f"line {lineno}", None, line)


def parse_ndjson_line(line: bytes) -> tuple[dict[str, Any], str | None]:
    """Fields from one NDJSON line, and the encoding used if not UTF-8.

    Raises ValueError with the reason when the line is not a JSON object.
    """
    try:
        obj, note = _decode_line(line)
    except ValueError as exc:
        reason = str(exc)
        if not line.endswith(b"\n"):
            reason = f"input ended in the middle of a record ({reason})"
        raise ValueError(reason) from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    return map_object(obj), note


def _unwrap(obj: Any) -> list[Any] | None:
    if isinstance(obj, dict) and not ({"title", "headline"} & obj.keys()):
        for key in _WRAPPER_KEYS:
            value = obj.get(key)
            if isinstance(value, list):
                return value
    return None


def read_json_document(doc: Document) -> Iterator[Found | Reject]:
    """Objects from a JSON document, in order, tolerating a truncated tail."""
    text = doc.text
    decoder = json.JSONDecoder()
    pos, n, entry = 0, len(text), 0
    line, line_pos = 1, 0

    def where(at: int) -> str:
        nonlocal line, line_pos
        line += text.count("\n", line_pos, at)
        line_pos = at
        return f"entry {entry} (line {line})"

    while pos < n:
        ch = text[pos]
        if ch in " \t\r\n,[]":
            pos += 1
            continue
        entry += 1
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            truncated = "Unterminated" in exc.msg or exc.pos >= len(text.rstrip()) - 1
            reason = (
                "input ends in the middle of a JSON value (truncated file?)"
                if truncated
                else f"invalid JSON: {exc.msg}"
            )
            yield Reject(where(pos), reason, excerpt(text[pos : pos + 200]))
            return
        inner = _unwrap(obj)
        if inner is not None:
            for i, item in enumerate(inner, 1):
                label = f"{where(pos)} item {i}"
                if isinstance(item, dict):
                    yield Found(label, map_object(item))
                else:
                    yield Reject(label, f"expected a JSON object, got {type(item).__name__}")
        elif isinstance(obj, dict):
            yield Found(where(pos), map_object(obj))
        else:
            yield Reject(where(pos), f"expected a JSON object, got {type(obj).__name__}", excerpt(text[pos:end]))
        pos = end
