"""Finding input files and decoding their bytes.

Nothing here knows about articles. It turns paths (files, folders, ``-`` for
stdin, zip members) into inputs to open, and bytes into text with the encoding it
actually used, so the readers above can be told apart by content. Undoing
compression, within bounds, is :mod:`.streams`' job.
"""

from __future__ import annotations

import codecs
import os
import stat
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..settings import IngestLimits
from .records import BadInput
from .streams import open_stream
from .zips import list_members, open_member

__all__ = [
    "BadInput",
    "Input",
    "decode",
    "iter_inputs",
    "open_stream",
    "sniff_binary",
    "sniff_encoding",
]

# Files that live in an opennews home and are never news input.
_SKIP_NAMES = {"opennews.sqlite3", "opennews.sqlite3-wal", "opennews.sqlite3-shm", "rejects.ndjson"}
_SKIP_DIRS = {"index", "feeds", "dumps", "__pycache__", "node_modules"}

_MAGIC = [
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF", "PDF document"),
    (b"RIFF", "RIFF media"),
    (b"\x7fELF", "executable"),
    (b"SQLite format 3", "SQLite database"),
    (b"\xd0\xcf\x11\xe0", "Office document"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf", "7-Zip archive"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
]


@dataclass(frozen=True)
class Input:
    """One thing to read: a file, stdin, or a member of a zip archive."""

    name: str
    path: Path | None = None
    member: str | None = None
    info: zipfile.ZipInfo | None = field(default=None, compare=False, repr=False)  # the member's directory entry

    def open(self) -> BinaryIO:
        """The raw bytes: the file, stdin, or a zip member's compressed data (see :func:`open_stream`)."""
        if self.path is None:
            return sys.stdin.buffer
        if self.info is not None:
            return open_member(self.path, self.info)
        return open(self.path, "rb")

    def sibling(self, name: str) -> Path | None:
        """A file next to this one (``12.body.txt`` beside ``12.info.txt``), if it exists."""
        if self.path is None or self.member is not None:
            return None
        other = self.path.with_name(name)
        return other if other.is_file() else None


def iter_inputs(paths: list[str], limits: IngestLimits | None = None) -> Iterator[Input | BadInput]:
    """Expand paths: folders recursively (sorted, hidden files skipped), ``-`` as stdin,
    zip archives member by member. Missing paths and broken or oversized zip archives
    come back as BadInput."""
    limits = limits or IngestLimits()
    for raw in paths:
        if raw == "-":
            yield Input("<stdin>")
            continue
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
                for name in sorted(files):
                    if name.startswith(".") or name in _SKIP_NAMES or _special(Path(root) / name):
                        continue  # a FIFO, socket or device in a folder is no input: opening one can block
                    yield from _expand(Path(root) / name, limits)
        elif path.is_file():
            yield from _expand(path, limits)
        else:
            kind = _special(path)
            err = BadInput(f"not a regular file (a {kind}): not read" if kind else f"no such file or folder: {raw}")
            err.where = raw
            yield err


def _special(path: Path) -> str | None:
    """What a path that is neither a file nor a folder is ("FIFO", "socket", "device"), or None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return None


def _expand(path: Path, limits: IngestLimits) -> Iterator[Input | BadInput]:
    if path.name.endswith(".body.txt") and path.with_name(path.name[: -len(".body.txt")] + ".info.txt").is_file():
        return  # read together with its .info.txt
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError:
        is_zip = False  # unreadable: opening it says why
    if is_zip:
        try:
            members = list_members(path, limits)
        except BadInput as exc:
            exc.where = str(path)
            yield exc
            return
        for info in members:
            base = info.filename.rsplit("/", 1)[-1]
            if not base.startswith(".") and not base.endswith(".body.txt"):
                yield Input(f"{path}!{info.filename}", path, info.filename, info)
        return
    yield Input(str(path), path)


def sniff_binary(head: bytes) -> str | None:
    """Name the kind of a binary file from its first bytes, or None for text."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 with a BOM
    sample = head[:4096]
    if not sample:
        return None
    # A stray NUL in one record is that record's problem; many of them mean binary data.
    if sample.count(b"\x00") / len(sample) > 0.01:
        return "binary data (NUL bytes)"
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if controls / len(sample) > 0.05:
        return "binary data (control bytes)"
    return None


def _plausible(text: str) -> bool:
    """Windows-1258 decodes nearly any byte string; accept it only if it reads as text."""
    if not text:
        return True
    odd = sum(1 for c in text if (ord(c) < 32 and c not in "\t\n\r") or 0x80 <= ord(c) < 0xA0)
    return odd / len(text) < 0.01


def decode(data: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8, else UTF-16 (with a BOM), else Windows-1258.

    Returns (text, encoding used). Raises BadInput naming the first bad byte when
    none of them fits.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise BadInput(f"invalid UTF-16 at byte {exc.start}", where=f"byte {exc.start}") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError:
        text = None
    if text is not None and _plausible(text):
        return text, "windows-1258"
    raise BadInput(
        f"undecodable bytes: not UTF-8 (bad byte 0x{data[first_bad]:02x} at offset {first_bad}), "
        "nor UTF-16 with a BOM, nor Windows-1258",
        where=f"byte {first_bad}",
    )


def sniff_encoding(head: bytes) -> str:
    """The encoding :func:`decode` would pick for a text that starts with ``head`` (whose
    last character may be cut off): for inputs read as a stream rather than whole.
    Raises BadInput when the head fits none of them."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    return decode(head)[1]
