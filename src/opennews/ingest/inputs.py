"""Finding input files, undoing their compression and decoding their bytes.

Nothing here knows about articles. It turns paths (files, folders, ``-`` for
stdin, zip members) into byte streams, and bytes into text with the encoding it
actually used, so the readers above can be told apart by content.
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "BadInput",
    "Input",
    "decode",
    "iter_inputs",
    "open_stream",
    "sniff_binary",
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


class BadInput(Exception):
    """A whole input (or its tail) that cannot be read; the message is the reason."""

    def __init__(self, reason: str, where: str = "file") -> None:
        super().__init__(reason)
        self.reason = reason
        self.where = where


@dataclass(frozen=True)
class Input:
    """One thing to read: a file, stdin, or a member of a zip archive."""

    name: str
    path: Path | None = None
    member: str | None = None

    def open(self) -> BinaryIO:
        if self.path is None:
            return sys.stdin.buffer
        if self.member is not None:
            archive = zipfile.ZipFile(self.path)
            return archive.open(self.member)  # type: ignore[return-value]
        return open(self.path, "rb")

    def sibling(self, name: str) -> Path | None:
        """A file next to this one (``12.body.txt`` beside ``12.info.txt``), if it exists."""
        if self.path is None or self.member is not None:
            return None
        other = self.path.with_name(name)
        return other if other.is_file() else None


def iter_inputs(paths: list[str]) -> Iterator[Input | BadInput]:
    """Expand paths: folders recursively (sorted, hidden files skipped), ``-`` as stdin,
    zip archives member by member. Missing paths come back as BadInput."""
    for raw in paths:
        if raw == "-":
            yield Input("<stdin>")
            continue
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
                for name in sorted(files):
                    if name.startswith(".") or name in _SKIP_NAMES:
                        continue
                    yield from _expand(Path(root) / name)
        elif path.is_file():
            yield from _expand(path)
        else:
            err = BadInput(f"no such file or folder: {raw}")
            err.where = raw
            yield err


def _expand(path: Path) -> Iterator[Input | BadInput]:
    if path.name.endswith(".body.txt") and path.with_name(path.name[: -len(".body.txt")] + ".info.txt").is_file():
        return  # read together with its .info.txt
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = sorted(i.filename for i in archive.infolist() if not i.is_dir())
        except (zipfile.BadZipFile, OSError) as exc:
            err = BadInput(f"broken zip archive: {exc}")
            err.where = str(path)
            yield err
            return
        for name in names:
            base = name.rsplit("/", 1)[-1]
            if not base.startswith(".") and not base.endswith(".body.txt"):
                yield Input(f"{path}!{name}", path, name)
        return
    yield Input(str(path), path)


class _Decompressing(io.RawIOBase):
    """Streaming decompression that hands out every byte before a cut or corruption.

    The standard library's file wrappers drop a whole buffer when the stream
    ends early; here each compressed chunk is decompressed as it comes, so a
    truncated download yields all it can, then a BadInput saying where it broke.
    Concatenated members (``cat a.gz b.gz``) are read one after the other.
    """

    def __init__(self, raw: BinaryIO, make: Callable[[], Any], kind: str) -> None:
        self._raw = raw
        self._make = make
        self._dec = make()
        self._kind = kind
        self._buf = b""
        self._out = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _fail(self, why: str) -> BadInput:
        self._done = True
        return BadInput(
            f"{self._kind} stream is truncated or corrupt after {self._out:,} bytes ({why})", where=f"byte {self._out}"
        )

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._buf:
            if self._done:
                return 0
            chunk = self._raw.read(1 << 16)
            if not chunk:
                if not self._dec.eof:
                    raise self._fail("the compressed data ends before its end-of-stream marker")
                self._done = True
                return 0
            try:
                out = self._dec.decompress(chunk)
                while self._dec.eof and self._dec.unused_data:
                    rest = self._dec.unused_data
                    if not rest.strip(b"\0"):
                        break  # zero padding after the last member
                    self._dec = self._make()
                    out += self._dec.decompress(rest)
            except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError) as exc:
                raise self._fail(str(exc)) from None
            self._buf = out
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self._out += n
        return n


def open_stream(raw: BinaryIO) -> tuple[BinaryIO, str | None]:
    """Undo gzip/bz2/xz/zstd compression, detected by magic bytes, not by name."""
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    head = buffered.peek(6)[:6]
    make: Callable[[], Any] | None = None
    kind: str | None = None
    if head[:2] == b"\x1f\x8b":
        make, kind = (lambda: zlib.decompressobj(wbits=31)), "gzip"
    elif head[:3] == b"BZh":
        make, kind = bz2.BZ2Decompressor, "bzip2"
    elif head[:6] == b"\xfd7zXZ\x00":
        make, kind = lzma.LZMADecompressor, "xz"
    elif head[:4] == b"\x28\xb5\x2f\xfd":
        try:
            import zstandard
        except ImportError:
            raise BadInput("zstd-compressed input needs the 'zstd' extra: pip install 'opennews[zstd]'") from None
        make, kind = (lambda: zstandard.ZstdDecompressor().decompressobj()), "zstd"
    if make is None:
        return buffered, None
    return io.BufferedReader(_Decompressing(buffered, make, kind), buffer_size=1 << 20), kind  # type: ignore[arg-type]


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
