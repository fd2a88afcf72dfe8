"""Reading a response's body within bounds: its size once decoded, and the time it takes.

Bodies are decoded here, not by httpx (only gzip is asked for), with zlib's output bounded
per step, so a gzip bomb costs ``cap`` bytes of memory and is refused; httpx's own decoder
would inflate a whole network chunk (about 1,000 times its size for zeros) before anything
could count it. The whole body must arrive within a deadline, looked at as each piece
arrives: ``iter_raw(n)`` would gather n bytes first, and a server sending a byte at a time,
each within the read time-out, would hold a request for as long as it liked.
"""

from __future__ import annotations

import time
import zlib

import httpx

from ..settings import format_size

__all__ = ["BodyError", "drain", "read_body"]

_SHORT = 64 << 10  # a body nobody needs is read to its end up to this, so its connection is kept


class BodyError(Exception):
    """Why a body was not read (the fetcher raises it again as its FetchError)."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.transient = reason, transient


class _Gunzip:
    """gzip decoding whose output per call is bounded (zlib's ``max_length``), members one after another."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(wbits=31)

    def feed(self, data: bytes, limit: int) -> bytes:
        out: list[bytes] = []
        made = 0
        while data and made < limit:
            chunk = self._d.decompress(data, limit - made)
            out.append(chunk)
            made += len(chunk)
            if self._d.eof:
                data = self._d.unused_data
                self._d = zlib.decompressobj(wbits=31)
            else:
                data = self._d.unconsumed_tail
        return b"".join(out)


def drain(response: httpx.Response, seconds: float, most: int = _SHORT) -> None:
    """Read a short body nobody needs (a 304's, a redirect's) so that its connection is kept;
    one longer than ``most``, or slower than ``seconds``, is left unread and the connection closed."""
    read, deadline = 0, time.monotonic() + seconds
    for raw in response.iter_raw():
        read += len(raw)
        if read > most or time.monotonic() > deadline:
            return


def read_body(response: httpx.Response, cap: int, *, truncate: bool, seconds: float) -> bytes:
    """The decoded body, counted as it streams, within ``seconds``; past ``cap``, a BodyError
    (or, ``truncate``, the first ``cap`` bytes: robots.txt is read so)."""
    over = f"over the {format_size(cap)} cap"
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip"):
        raise BodyError(f"content encoding {encoding!r} was not asked for")
    length = response.headers.get("content-length", "")
    if encoding in ("identity", "") and length.isdigit() and int(length) > cap and not truncate:
        raise BodyError(f"{over} (Content-Length {format_size(int(length))})")
    gunzip = _Gunzip() if encoding in ("gzip", "x-gzip") else None
    deadline = time.monotonic() + seconds
    body = bytearray()
    try:
        for raw in response.iter_raw():
            body += gunzip.feed(raw, cap - len(body) + 1) if gunzip else raw
            if len(body) > cap:
                if truncate:
                    return bytes(body[:cap])
                raise BodyError(over + (" once decoded" if gunzip else ""))
            if time.monotonic() > deadline:
                raise BodyError(f"took over {seconds:g} s to send", transient=True)
    except zlib.error as exc:
        raise BodyError(f"gzip body unreadable: {exc}") from None
    return bytes(body)
