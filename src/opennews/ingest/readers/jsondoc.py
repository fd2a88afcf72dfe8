"""NDJSON / JSON Lines and JSON documents, both streamed: memory stays flat whatever the size.

A JSON document may be one object, an array of objects (arrays of arrays are
flattened), several arrays or objects one after another (also with commas between
them), or an object wrapping a list ("articles", "items", …): the first such list,
met before any "title" or "headline" key, is read item by item. Documents go through
ijson (the yajl C parser where it is installed) one 64 KiB block at a time, so a
250 MiB array costs a few records of memory, not the document and its objects
(543 MB for 250 MiB when it was parsed whole). A document cut off or broken in the
middle yields every object before the break, then a reject saying what broke.

Bounds (:class:`~opennews.settings.IngestLimits`): an object larger than
``max_record_bytes`` is rejected and skipped, also when one string in it is longer
than that (dropped as it streams, see :class:`_LongStrings`); one nested deeper than
``max_depth`` (JSON that would blow the stack of a recursive parser) too, the reading
going on after it. Blank space between values counts toward no record.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import ijson
import orjson

from ...settings import IngestLimits, format_size, limit_names
from ..inputs import _plausible, sniff_encoding
from ..records import BadInput, Document, Found, Reject, excerpt
from .jsonevents import Entries, deeper_than
from .jsonmap import map_object

__all__ = ["parse_ndjson_line", "read_json_document", "read_json_stream", "read_ndjson"]

_CONTENT = re.compile(rb"[^ \t\n\r\x0b\x0c]")  # what bytes.strip() does not strip
_BLOCK = 1 << 20  # NDJSON bytes read at a time
_CHUNK = 1 << 16  # JSON document bytes fed to the parser at a time


# -- NDJSON ---------------------------------------------------------------------------


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
            except RecursionError:
                raise ValueError("invalid JSON: nested too deep") from None
        raise ValueError(f"invalid JSON: {exc}") from None


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKETS = re.compile(rb"[\[\]{}]")


def _nesting(line: bytes) -> int:
    """How deep arrays and objects nest in a line no parser would take (brackets in strings not counted)."""
    depth = deepest = 0
    for m in _BRACKETS.finditer(_JSON_STRING.sub(b"", line)):
        depth += 1 if m.group() in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _too_deep(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` levels (without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


def read_ndjson(stream: io.BufferedIOBase, *, max_record_bytes: int, first_line: int = 1) -> Iterator[Found | Reject]:
    """One record per line, read a block at a time: memory stays flat whatever the file
    size, and a run of blank lines costs a scan of its bytes, not a turn per line.

    Lines come out raw (blank lines skipped); :func:`parse_ndjson_line` turns them into
    fields later. ``first_line`` numbers the stream's first line (blank lines already
    skipped before it count). A line longer than ``max_record_bytes`` is rejected and skipped.
    Blocks are taken with ``read1``, which hands out what one read of the stream gave:
    when a compressed stream breaks, every line before the break has come out already.
    """
    cap = max_record_bytes or None
    buf = b""  # the start of a line that the next block goes on with
    lineno = first_line  # the line that buf (or the next block) starts
    long_size = 0  # bytes so far of an over-long line being skipped

    def too_long(size: int) -> Reject:
        return Reject(
            f"line {lineno}", f"record too long ({size:,} bytes; limit {cap:,}, {limit_names('max_record_bytes')})"
        )

    while True:
        try:
            block = stream.read1(_BLOCK)
        except BadInput as exc:
            yield Reject(exc.where, exc.reason)
            return
        if not block:
            if long_size:
                yield too_long(long_size)
            elif buf.strip():
                yield Found(f"line {lineno}", None, buf)
            return
        if long_size:
            nl = block.find(b"\n")
            if nl < 0:
                long_size += len(block)
                continue
            yield too_long(long_size + nl)
            lineno += 1
            long_size = 0
            block = block[nl + 1 :]
        blank = block[:1].isspace() and block[-1:].isspace() and not block.strip()  # ends first: no copy
        if blank and not buf.strip():  # all blank: count the lines, keep nothing
            last = block.rfind(b"\n")
            lineno += block.count(b"\n")
            buf = block[last + 1 :] if last >= 0 else buf + block
        else:
            data = buf + block if buf else block
            buf = b""
            pos = 0
            while True:
                m = _CONTENT.search(data, pos)
                if m is None:  # blank to the end: keep the start of the last line
                    last = data.rfind(b"\n", pos)
                    lineno += data.count(b"\n", pos)
                    buf = data[last + 1 :] if last >= 0 else data[pos:]
                    break
                k = data.rfind(b"\n", pos, m.start())
                start = pos if k < 0 else k + 1
                lineno += data.count(b"\n", pos, start)
                nl = data.find(b"\n", m.start())
                if nl < 0:
                    buf = data[start:]
                    break
                if cap and nl - start > cap:
                    yield too_long(nl - start)
                else:
                    yield Found(f"line {lineno}", None, data[start : nl + 1])
                lineno += 1
                pos = nl + 1
        if cap and len(buf) > cap:
            long_size, buf = len(buf), b""


def parse_ndjson_line(line: bytes, max_depth: int = 0) -> tuple[dict[str, Any], str | None]:
    """Fields from one NDJSON line, and the encoding used if not UTF-8.

    Raises ValueError with the reason when the line is not a JSON object, or one
    nested deeper than ``max_depth`` (0: no limit).
    """
    # Depth can only exceed the bound on a line with that many brackets; only those are walked.
    deep_enough = max_depth and line.count(b"[") + line.count(b"{") > max_depth
    try:
        obj, note = _decode_line(line)
    except ValueError as exc:
        reason = str(exc)
        if deep_enough and ("recursion" in reason or "too deep" in reason):
            raise ValueError(deeper_than(max_depth)) from None
        if reason.startswith("invalid JSON: depth limit exceeded"):  # orjson's own bound, 1,024 levels
            depth = _nesting(line)
            if max_depth and depth > max_depth:
                raise ValueError(deeper_than(max_depth)) from None
            raise ValueError(f"nested {depth:,} levels deep: deeper than the JSON parser reads (1,024)") from None
        if not line.endswith(b"\n"):
            reason = f"input ended in the middle of a record ({reason})"
        raise ValueError(reason) from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    if deep_enough and _too_deep(obj, max_depth):
        raise ValueError(deeper_than(max_depth))
    return map_object(obj), note


# -- JSON documents -------------------------------------------------------------------


def _commas_between_values(head: str) -> bool:
    """``{…},{…}``: objects one after another with commas, which no JSON parser takes as is."""
    s = head.lstrip("\ufeff \t\r\n")
    if not s.startswith("{"):
        return False
    try:
        _, end = json.JSONDecoder().raw_decode(s)
    except (ValueError, RecursionError):
        return False
    return s[end:].lstrip().startswith(",")


def _utf8_blocks(stream: io.BufferedIOBase, encoding: str, found: Callable[[str], None]) -> Iterator[bytes]:
    """The stream's text as UTF-8 (what the parser reads), a block at a time.

    A document read as UTF-8 only because it was plain ASCII so far is decided again at
    its first block with other bytes, by :func:`~opennews.ingest.inputs.decode`'s rule
    (UTF-8 if they are, else Windows-1258 if that reads as text): a Windows-1258 dump
    can run for megabytes of ASCII before its first accented letter. ``found`` is told
    the encoding chosen then. The blocks before that one are ASCII, so it starts on a
    character; a UTF-8 character cut at its end is not held against UTF-8.
    """
    first = True
    if encoding == "utf-8":
        undecided = True
        while block := stream.read1(_CHUNK):
            if first and block.startswith(b"\xef\xbb\xbf"):
                block, undecided = block[3:], False  # a BOM says UTF-8
            first = False
            if undecided and not block.isascii():
                undecided = False
                try:
                    encoding = sniff_encoding(block)
                except BadInput:
                    encoding = "utf-8"  # neither: the parser says where it breaks
                if encoding != "utf-8":
                    found(encoding)
                    break
            yield block
        else:
            return
        decoder = codecs.getincrementaldecoder("cp1258")()
        yield decoder.decode(block).encode("utf-8")
    else:
        decoder = codecs.getincrementaldecoder("utf-16" if encoding == "utf-16" else "cp1258")()
    while block := stream.read1(_CHUNK):
        yield decoder.decode(block).encode("utf-8")
    yield decoder.decode(b"", final=True).encode("utf-8")


def _parse_error(exc: Exception) -> tuple[str, str]:
    """yajl's message (bytes from the C parser), split into a short reason and the excerpt it points at."""
    message = exc.args[0] if exc.args else ""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    first = lines[0] if lines else type(exc).__name__
    if "premature EOF" in first:
        return "input ends in the middle of a JSON value (truncated file?)", ""
    sample = lines[1] if len(lines) > 1 and "(right here)" not in lines[1] else ""
    return f"invalid JSON: {first.removeprefix('parse error: ')[:120]}", excerpt(sample)


_STRING_BODY = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.S)  # a string's bytes up to its closing quote
_SCALAR_BYTES = b"0123456789+-.eEtruefalsn"  # what numbers and literals are made of


def _string_end(block: bytes, pos: int) -> int:
    """Where the string going on at ``pos`` stops in ``block``: its closing quote, the
    block's end, or a backslash that is the block's last byte (an escape that goes on in
    the next block). Quotes are found with ``find`` and escaped ones told apart by the
    backslashes before them; a long run of backslashes goes to the regular expression
    (correct whatever the input, at a third of the parser's speed)."""
    n = len(block)
    quote = block.find(b'"', pos)
    while True:
        stop = quote if quote >= 0 else n
        k = stop
        while k > pos and block[k - 1] == 0x5C and stop - k < 16:
            k -= 1
        if stop - k == 16:
            return _STRING_BODY.match(block, pos).end()  # type: ignore[union-attr]
        if quote < 0:
            return n - (stop - k) % 2
        if (stop - k) % 2 == 0:
            return quote
        quote = block.find(b'"', quote + 1)


class _LongStrings:
    """Keeps a string longer than the record bound away from the parser.

    The parser holds a token that spans blocks whole until it ends, so one string
    of gigabytes would cost gigabytes. Strings that run past the end of a block are
    held here instead (up to ``cap`` bytes); one that grows past it is dropped as it
    streams and the parser gets ``""`` in its place, its index in :attr:`cut`, so the
    record it was in is rejected and the document read on. Whitespace between values
    is passed on and never counted: it is no record. A number or literal (which the
    parser also holds) longer than ``cap`` is :attr:`overlong`: nothing after it is read.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.in_string = False
        self.escape = False  # the block ended on the backslash of an escape
        self.held: list[bytes] = []
        self.held_size = 0
        self.dropping = False
        self.strings = 0  # string tokens begun so far (the parser's "string" and "map_key" events)
        self.cut: list[int] = []  # which of them were dropped, in order
        self.scalar = 0  # bytes of the number or literal at the end of what was passed on
        self.overlong = False

    def pass_on(self, block: bytes) -> bytes:
        """What of ``block`` the parser gets now."""
        out: list[bytes] = []
        pos, n = 0, len(block)
        while pos < n:
            if not self.in_string:
                quote = block.find(b'"', pos)
                if quote < 0:
                    rest = block[pos:]
                    tail = len(rest) - len(rest.rstrip(_SCALAR_BYTES))
                    self.scalar = self.scalar + tail if tail == len(rest) else tail
                    self.overlong = bool(self.cap) and self.scalar > self.cap
                    out.append(rest)
                    break
                out.append(block[pos:quote])
                self.scalar = 0
                self.in_string, self.held, self.held_size = True, [], 0
                self.strings += 1
                start, pos = quote, quote + 1
            else:
                start = pos
                if self.escape:
                    pos, self.escape = pos + 1, False
            end = _string_end(block, pos)
            if end < n and block[end] == 0x22:  # the closing quote
                self.in_string, pos = False, end + 1
                if self.dropping:
                    self.dropping = False
                    out.append(b'""')
                else:
                    self.held.append(block[start:pos])
                    out.append(b"".join(self.held))
                    self.held, self.held_size = [], 0
                continue
            self.escape = end < n  # stopped on a backslash, the block's last byte
            if not self.dropping:
                self.held.append(block[start:])
                self.held_size += n - start
                if self.cap and self.held_size > self.cap:
                    self.dropping, self.held, self.held_size = True, [], 0
                    self.cut.append(self.strings - 1)
            break
        return b"".join(out)

    def rest(self) -> bytes:
        """At the end of the input: a string still held goes to the parser (which says it was cut off)."""
        held, self.held = b"".join(self.held), []
        return held if held or not self.dropping else b'"'


def read_json_stream(
    stream: io.BufferedIOBase,
    *,
    encoding: str = "utf-8",
    limits: IngestLimits | None = None,
    head: str = "",
    encoding_found: Callable[[str], None] | None = None,
) -> Iterator[Found | Reject]:
    """Objects from a JSON document, in order, read as a stream (see the module's doc).

    ``encoding`` is the document's (see :func:`~opennews.ingest.inputs.sniff_encoding`);
    ``head``, its first characters, tells whether objects are separated by commas.
    ``encoding_found`` is told when an ASCII start turns out to be another encoding.
    """
    limits = limits or IngestLimits()
    wrap = _commas_between_values(head)
    cap = limits.max_record_bytes
    guard = _LongStrings(cap)
    entries = Entries(limits, depth=-1 if wrap else 0, cut=guard.cut)
    events = ijson.sendable_list()
    parser = ijson.basic_parse_coro(events, multiple_values=True, use_float=True)
    try:
        if wrap:
            parser.send(b"[")
        for block in _utf8_blocks(stream, encoding, encoding_found or (lambda _: None)):
            if data := guard.pass_on(block):  # (an empty block would tell the parser the input ended)
                parser.send(data)
            if events:
                yield from entries.feed(events)
                del events[:]
            if guard.overlong:
                yield Reject(
                    entries.next_where(),
                    f"a number or literal longer than the limit of {format_size(cap)} "
                    f"({limit_names('max_record_bytes')}); the rest of the input was not read",
                )
                return
        if data := guard.rest():
            parser.send(data)
        if wrap:
            parser.send(b"]")
        parser.close()
        yield from entries.feed(events)
    except ijson.JSONError as exc:
        yield from entries.feed(events)  # what was complete before the error
        reason, sample = _parse_error(exc)
        yield Reject(entries.next_where(), reason, sample)
    except BadInput as exc:
        yield Reject(exc.where, exc.reason)
    except UnicodeDecodeError as exc:
        yield Reject(entries.next_where(), f"undecodable bytes: not {encoding} ({exc.reason})")


def read_json_document(doc: Document) -> Iterator[Found | Reject]:
    """The same for a document already decoded (kept for callers holding text)."""
    yield from read_json_stream(io.BytesIO(doc.text.encode("utf-8")), head=doc.text[:65536])
