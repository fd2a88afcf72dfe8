"""An input's bytes, decompressed as they stream, under bounds a bomb cannot get past.

Each read decompresses only what it hands out: zlib (gzip, zip's deflate), bz2 and
xz are asked for at most the bytes wanted, and zstd, whose decompressor has no such
limit, is fed 1 KiB of compressed data at a time (at most 32 MiB come out of that).
After every read two bounds are checked: the decompressed bytes of the input (or zip
member), and the ratio of those bytes to the compressed bytes read from disk, so a
gzip of 50 MiB of newlines (1,000:1) stops after a few MiB instead of costing 25 s.
The ratio counts every layer (a gzip inside a zip is measured against the zip's
bytes on disk), and is not checked on the first :data:`RATIO_GRACE` bytes, where a
small file of blank space is no bomb.

A stream cut off or corrupt hands out every byte before the break, then a BadInput
saying where it broke; concatenated members (``cat a.gz b.gz``) are read one after
the other.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zipfile
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol

from ..settings import MIB, IngestLimits, format_size, limit_names
from .records import BadInput

__all__ = ["MAX_ZERO_PADDING", "RATIO_GRACE", "XZ_MEMLIMIT", "open_stream"]

CHUNK = 1 << 16  # compressed bytes read at a time
RATIO_GRACE = 4 * MIB
#: Memory an xz stream may make its decompressor take. An xz header declares its
#: dictionary (up to 4 GiB) and liblzma allocates it; a tiny file can ask for gigabytes.
#: ``xz -9`` uses 64 MiB (65 MiB to decompress), so real dumps stay far below.
XZ_MEMLIMIT = 256 * MIB
#: Zero bytes skipped after a compressed member before the input is stopped.
MAX_ZERO_PADDING = MIB
_ZSTD_SLICE = 1024  # compressed bytes per zstd call: a 128 KiB block fits in 4, so 32 MiB out at most


class _Corrupt(Exception):
    """A decompressor's complaint, turned into a BadInput with the byte offset above."""


class _Refused(_Corrupt):
    """A stream that is not corrupt but asks more than we give (its reason is used as is)."""


class _Source(Protocol):
    def read(self, n: int, /) -> bytes: ...


class _Counted:
    """The raw bytes of an input (at most ``limit`` of them), counted: the ratio's denominator."""

    def __init__(self, raw: BinaryIO, limit: int | None = None) -> None:
        self._read = _one_read(raw)
        self.count = 0
        self.limit = limit

    def read(self, n: int) -> bytes:
        if self.limit is not None:
            n = min(n, self.limit - self.count)
            if n <= 0:
                return b""
        data = self._read(n)
        self.count += len(data)
        return data


class _OneRead:
    """A buffered stream read with ``read1``: what one read below gave, so that when the
    next one raises (a corrupt member), the bytes before it are already out."""

    def __init__(self, stream: io.BufferedReader) -> None:
        self.read = stream.read1


def _one_read(raw: BinaryIO) -> Callable[[int], bytes]:
    return raw.read1 if isinstance(raw, io.BufferedIOBase) else raw.read  # type: ignore[attr-defined]


class _Decoder:
    """What every decompressor here shares: the library's object, the input it was given
    and not yet used, whether its stream has ended, and the bytes after that end."""

    d: Any

    def __init__(self) -> None:
        self.buf = b""

    @property
    def eof(self) -> bool:
        return bool(self.d.eof)

    def leftover(self) -> bytes:
        return bytes(self.d.unused_data)


class _Zlib(_Decoder):
    """gzip (``wbits=31``) or zip's raw deflate (``-15``)."""

    def __init__(self, wbits: int) -> None:
        super().__init__()
        self.d = zlib.decompressobj(wbits=wbits)

    def give(self, data: bytes) -> None:
        self.buf = self.buf + data if self.buf else data

    def needs_input(self) -> bool:
        return not self.buf

    def take(self, n: int) -> bytes:
        out = self.d.decompress(self.buf, n)
        self.buf = self.d.unconsumed_tail
        return out


class _Lib(_Decoder):
    """bz2 and lzma decompressors, which keep unconsumed input themselves."""

    def __init__(self, d: bz2.BZ2Decompressor | lzma.LZMADecompressor) -> None:
        super().__init__()
        self.d = d

    def give(self, data: bytes) -> None:
        self.buf = data

    def needs_input(self) -> bool:
        return not self.buf and self.d.needs_input

    def take(self, n: int) -> bytes:
        data, self.buf = self.buf, b""
        try:
            return self.d.decompress(data, n)
        except lzma.LZMAError as exc:
            if "memory usage limit" in str(exc).lower():
                raise _Refused(
                    f"xz stream needs more than {format_size(XZ_MEMLIMIT)} of memory to decompress "
                    "(the dictionary its header declares); not read"
                ) from None
            raise


class _Zstd:
    def __init__(self) -> None:
        import zstandard

        self.d = zstandard.ZstdDecompressor().decompressobj()
        self.buf = b""

    @property
    def eof(self) -> bool:
        return bool(self.d.eof)

    def leftover(self) -> bytes:
        return bytes(self.d.unused_data) + self.buf

    def give(self, data: bytes) -> None:
        self.buf = self.buf + data if self.buf else data

    def needs_input(self) -> bool:
        return not self.buf

    def take(self, n: int) -> bytes:
        piece, self.buf = self.buf[:_ZSTD_SLICE], self.buf[_ZSTD_SLICE:]
        return self.d.decompress(piece)


_Decompressor = _Zlib | _Lib | _Zstd
_ERRORS: tuple[type[BaseException], ...] = (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError)


def _zstd_errors() -> tuple[type[BaseException], ...]:
    try:
        import zstandard
    except ImportError:
        return ()
    return (zstandard.ZstdError,)


class _Inflating:
    """Hands out at most ``n`` decompressed bytes a read, from one or more members."""

    def __init__(
        self, src: _Source, make: Callable[[], _Decompressor], *, members: bool = True, kind: str = ""
    ) -> None:
        self.kind = kind
        self._src = src
        self._make = make
        self._d = make()
        self._members = members
        self._pending = b""  # output beyond what was asked (zstd only)
        self._pos = 0
        self._errors = _ERRORS + _zstd_errors()

    def _take(self, n: int) -> bytes:
        try:
            out = self._d.take(n)
        except _Refused:
            raise
        except self._errors as exc:
            raise _Corrupt(str(exc) or type(exc).__name__) from None
        if len(out) > n:
            self._pending, self._pos = out, n
            return out[:n]
        return out

    def _next_member(self) -> bool:
        """After a member's end: start the next one if data follows; False at the end.

        Zero bytes after a member (tape blocks, xz stream padding) are skipped, as gzip
        does, up to :data:`MAX_ZERO_PADDING`: past it the input stops there, so zeros
        without end (``cat a.gz /dev/zero``) are not read forever."""
        rest = self._d.leftover()
        if not self._members:
            return False
        zeros = 0
        while True:
            data = rest.lstrip(b"\0")
            zeros += len(rest) - len(data)
            if data:
                break
            if zeros > MAX_ZERO_PADDING:
                raise _Refused(
                    f"{self.kind} stream has more than {format_size(MAX_ZERO_PADDING)} of zero bytes after its "
                    "last member; the rest was not read"
                )
            rest = self._src.read(CHUNK)
            if not rest:
                return False
        self._d = self._make()
        self._d.give(data)
        return True

    def read(self, n: int) -> bytes:
        if self._pos < len(self._pending):
            out = self._pending[self._pos : self._pos + n]
            self._pos += len(out)
            return out
        while True:
            if self._d.eof:
                if not self._next_member():
                    return b""
                continue
            if self._d.needs_input():
                chunk = self._src.read(CHUNK)
                if not chunk:
                    out = self._take(n)  # what the decompressor still holds
                    if out or self._d.eof:
                        return out
                    raise _Corrupt("the compressed data ends before its end-of-stream marker")
                self._d.give(chunk)
            out = self._take(n)
            if out:
                return out


class _ZipChecked:
    """A zip member's data, held to its declared size and CRC-32 (as :mod:`zipfile` does)."""

    def __init__(self, src: _Source, info: zipfile.ZipInfo) -> None:
        self._src = src
        self._info = info
        self._crc = 0
        self._size = 0

    def read(self, n: int) -> bytes:
        data = self._src.read(n)
        self._size += len(data)
        self._crc = zlib.crc32(data, self._crc)
        if self._size > self._info.file_size:
            raise _Corrupt(f"the member is longer than the {self._info.file_size:,} bytes its directory says")
        if not data and (self._size != self._info.file_size or self._crc != self._info.CRC):
            raise _Corrupt("the member's size or CRC-32 does not match its directory entry")
        return data


class _Bounded(io.RawIOBase):
    """Counts what ``engine`` hands out and stops at the byte cap or past the ratio."""

    def __init__(
        self,
        engine: _Source,
        disk: _Counted,
        *,
        kind: str,
        cap: int,
        cap_limit: str,
        ratio: float,
    ) -> None:
        self._engine = engine
        self._disk = disk
        self._kind = kind
        self._cap = cap
        self._cap_limit = cap_limit
        self._ratio = ratio
        self._out = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _stop(self, reason: str) -> BadInput:
        self._done = True
        return BadInput(reason, where=f"byte {self._out}")

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._done:
            return 0
        want = len(buffer)
        if self._cap:
            want = min(want, self._cap - self._out) or 1  # one byte more tells whether there is more
        try:
            data = self._engine.read(want)
        except _Refused as exc:
            raise self._stop(str(exc)) from None
        except _Corrupt as exc:
            raise self._stop(f"{self._kind} stream is truncated or corrupt after {self._out:,} bytes ({exc})") from None
        if not data:
            self._done = True
            return 0
        if self._cap and self._out + len(data) > self._cap:
            raise self._stop(
                f"{self._kind} is larger than the limit of {format_size(self._cap)} ({limit_names(self._cap_limit)}); "
                f"the first {self._cap:,} bytes were read"
            )
        self._out += len(data)
        disk = self._disk.count
        if self._ratio and self._out > RATIO_GRACE and self._out > self._ratio * disk:
            raise self._stop(
                f"{self._kind} data expands more than {self._ratio:g}:1 ({self._out:,} bytes from {disk:,} "
                f"on disk): a decompression bomb? ({limit_names('max_ratio')})"
            )
        buffer[: len(data)] = data
        return len(data)


def _magic(head: bytes) -> tuple[Callable[[], _Decompressor], str] | None:
    """The decompressor that the first bytes call for, detected by magic, not by name."""
    if head[:2] == b"\x1f\x8b":
        return (lambda: _Zlib(31)), "gzip"
    if head[:3] == b"BZh":
        return (lambda: _Lib(bz2.BZ2Decompressor())), "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return (lambda: _Lib(lzma.LZMADecompressor(memlimit=XZ_MEMLIMIT))), "xz"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        try:
            import zstandard  # noqa: F401
        except ImportError:
            raise BadInput("zstd-compressed input needs the 'zstd' extra: pip install 'opennews[zstd]'") from None
        return _Zstd, "zstd"
    return None


def _member_engine(disk: _Counted, info: zipfile.ZipInfo) -> _Source:
    if info.compress_type == zipfile.ZIP_STORED:
        return _ZipChecked(disk, info)
    if info.compress_type == zipfile.ZIP_BZIP2:
        return _ZipChecked(_Inflating(disk, lambda: _Lib(bz2.BZ2Decompressor()), members=False), info)
    return _ZipChecked(_Inflating(disk, lambda: _Zlib(-15), members=False), info)


def open_stream(
    raw: BinaryIO, limits: IngestLimits | None = None, *, member: zipfile.ZipInfo | None = None
) -> tuple[io.BufferedReader, str | None]:
    """The decompressed bytes of ``raw`` (a file, stdin, or a zip member's compressed data
    when ``member`` is given), bounded by ``limits``, and the compression undone."""
    limits = limits or IngestLimits()
    if member is None:
        cap, cap_limit, kind = limits.max_input_bytes, "max_input_bytes", "input"
        buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
        disk = _Counted(buffered)
        head = buffered.peek(6)[:6]
        plain: _Source = disk
    else:
        cap, cap_limit, kind = limits.max_member_bytes, "max_member_bytes", "zip member"
        disk = _Counted(raw, member.compress_size)
        inner = _Bounded(
            _member_engine(disk, member), disk, kind=kind, cap=cap, cap_limit=cap_limit, ratio=limits.max_ratio
        )
        buffered = io.BufferedReader(inner, buffer_size=1 << 20)
        head = buffered.peek(6)[:6]
        plain = _OneRead(buffered)
    found = _magic(head)
    if found is None:
        source = _Bounded(plain, disk, kind=kind, cap=cap, cap_limit=cap_limit, ratio=limits.max_ratio)
        return io.BufferedReader(source, buffer_size=1 << 20), None
    make, compression = found
    engine = _Inflating(plain, make, kind=compression)
    source = _Bounded(engine, disk, kind=compression, cap=cap, cap_limit=cap_limit, ratio=limits.max_ratio)
    return io.BufferedReader(source, buffer_size=1 << 20), compression
