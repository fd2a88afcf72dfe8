"""Reading the inputs of a run: each one opened, undone, detected, and read by its reader.

Whatever a reader raises ends that input only, as a reject with its input and the
place it got to (a RecursionError, a MemoryError, a shape nobody foresaw); what it
read before stays in the run, and the next input is read. The bounds on what one
input may make us do (:class:`~opennews.settings.IngestLimits`) are applied here and
in the streams and readers below.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..settings import format_size, limit_names
from .inputs import BadInput, Input, decode, iter_inputs, open_stream, sniff_binary, sniff_encoding
from .readers import DOCUMENT_READERS, detect, read_json_stream, read_ndjson
from .records import Document, Found, Reject

if TYPE_CHECKING:
    from .pipeline import IngestOptions, InputReport, Progress, Run

__all__ = ["is_record", "read_all", "read_one"]


class _Position:
    """How far into the raw (compressed) file the readers have got, for the bar."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.last = 0
        self.last = self._tell()  # a zip member's data starts inside the archive

    def _tell(self) -> int:
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return self.last

    def delta(self) -> int:
        pos = self._tell()
        step, self.last = pos - self.last, pos
        return max(step, 0)


def _records(item: Input, raw: BinaryIO, info: InputReport, options: IngestOptions) -> Iterator[Found | Reject]:
    limits = options.limits
    try:
        stream, info.compression = open_stream(raw, limits, member=item.info)
        head = stream.peek(65536)[:65536]
        # Leading blank space tells nothing about the format: skipped (within the bounds
        # on decompressed bytes), so records after a blank stretch are still found.
        skipped_lines = 0
        while head and not head.strip():
            skipped_lines += stream.read(len(head)).count(b"\n")
            head = stream.peek(65536)[:65536]
    except BadInput as exc:
        yield Reject(exc.where, exc.reason)
        return
    if not head.strip():
        yield Reject("file", "empty input")
        return
    kind = sniff_binary(head)
    if kind:
        yield Reject("file", f"not text: looks like {kind}")
        return
    head_text = head.decode("utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", "replace")
    fmt = options.format or detect(item.name, head_text)
    info.format = fmt
    if fmt == "ndjson":
        info.encoding = "utf-8"
        yield from read_ndjson(stream, max_record_bytes=limits.max_record_bytes, first_line=1 + skipped_lines)
        return
    if fmt == "json":
        try:
            info.encoding = sniff_encoding(head)
        except BadInput as exc:
            yield Reject(exc.where, exc.reason)
            return

        def found(encoding: str) -> None:
            info.encoding = encoding

        yield from read_json_stream(stream, encoding=info.encoding, limits=limits, head=head_text, encoding_found=found)
        return
    cap = limits.max_document_bytes
    try:
        data = stream.read(cap + 1) if cap else stream.read()
    except BadInput as exc:
        yield Reject(exc.where, exc.reason)
        return
    if cap and len(data) > cap:
        yield Reject(
            "file",
            f"document too large to read whole (over {format_size(cap)}; {limit_names('max_document_bytes')}); "
            "use NDJSON or JSON for big inputs",
        )
        return
    try:
        text, info.encoding = decode(data)
    except BadInput as exc:
        yield Reject(exc.where, exc.reason)
        return
    doc = Document(item.name, text, info.encoding)
    if fmt == "keyvalue" and item.name.endswith(".info.txt"):
        body = item.sibling(Path(item.name).name[: -len(".info.txt")] + ".body.txt")
        if body is not None:
            try:
                with open(body, "rb") as fh:
                    data = fh.read(cap + 1) if cap else fh.read()
                if cap and len(data) > cap:
                    raise BadInput(f"over {format_size(cap)} ({limit_names('max_document_bytes')})")
                doc.extras["body"] = decode(data)[0]
            except (BadInput, OSError) as exc:
                yield Reject("file", f"paired body file unreadable: {exc}")
                return
    yield from DOCUMENT_READERS[fmt](doc)


def is_record(rej: Reject) -> bool:
    """Whether a reader's reject stands for one record, not the input as a whole.

    Whole-input problems (empty, not text, unreadable, a corrupt stream from some
    byte on) are rejected too, but no record was read from them.
    """
    return rej.where != "file" and not rej.where.startswith("byte ")


def read_all(run: Run, paths: list[str], progress: Progress) -> None:
    """Feed every input's records to the run, telling ``progress`` as batches are written."""
    limits = run.options.limits
    sizes = [Path(p).stat().st_size for p in paths if p != "-" and Path(p).is_file()]
    progress.start(sum(sizes) if sizes and len(sizes) == len(paths) else None)
    for item in iter_inputs(paths, limits):
        if isinstance(item, BadInput):
            run.reject(Reject("file", item.reason, "", item.where), run.begin_input(item.where))
            continue
        info = run.begin_input(item.name)
        progress.input_started(item.name)
        try:
            raw = item.open()
        except BadInput as exc:
            run.reject(Reject("file", exc.reason, "", item.name), info)
            continue
        except OSError as exc:
            run.reject(Reject("file", f"cannot open: {exc.strerror or exc}", "", item.name), info)
            continue
        position = _Position(raw)
        try:
            _read_input(run, item, raw, info, progress, position)
        finally:
            if item.path is not None:
                raw.close()
        progress.advance(position.delta(), run.report)
        run.end_input(info)
        for done in run.settled():
            progress.input_done(done)


def read_one(run: Run, name: str, raw: BinaryIO) -> InputReport:
    """Feed one input that is no file (a request's body) to the run, exactly as
    :func:`read_all` reads a file: same undoing, detection (or ``run.options.format``),
    readers and bounds. Its counts are final after ``run.finish()``."""
    from .pipeline import Progress

    info = run.begin_input(name)
    _read_input(run, Input(name), raw, info, Progress(), _Position(raw))
    run.end_input(info)
    return info


def _read_input(
    run: Run, item: Input, raw: BinaryIO, info: InputReport, progress: Progress, position: _Position
) -> None:
    """One input's records into the run. Whatever its reader raises ends this input
    only, as a reject; what was read before stays, and the next input is read."""
    max_records = run.options.limits.max_records
    records = _records(item, raw, info, run.options)
    last = ""
    try:
        while True:
            try:
                found = next(records)
            except StopIteration:
                return
            except (OSError, io.UnsupportedOperation) as exc:
                run.reject(Reject("file", f"read error: {exc}", "", item.name), info)
                return
            except Exception as exc:
                after = f" (after {last})" if last else ""
                why = f"could not be read{after}: {type(exc).__name__}: {str(exc)[:200]}".rstrip(": ")
                run.reject(Reject("file", why, "", item.name), info)
                return
            if max_records and info.read >= max_records and (isinstance(found, Found) or is_record(found)):
                limit = limit_names("max_records")
                why = f"more than {max_records:,} records in one input ({limit}); the rest was not read"
                run.reject(Reject(found.where, why, "", item.name), info)
                return
            last = found.where
            if run.take(found, info):
                progress.advance(position.delta(), run.report)
                for done in run.settled():
                    progress.input_done(done)
    finally:
        records.close()
