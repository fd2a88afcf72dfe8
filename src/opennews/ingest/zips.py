"""Zip archives, member by member, without trusting what they say about themselves.

:mod:`zipfile` reads the whole central directory into memory (a ZipInfo of some
400 bytes per member, so a small zip listing ten million empty members costs
gigabytes) and decompresses bzip2 and LZMA members with no bound on the output of
one call. So the member count is read first from the end-of-central-directory
record, the directory's entries are counted (headers only, up to the bound) in case
that record understates them, and a member's compressed bytes are handed out raw, to be decompressed by
:mod:`.streams` under the same bounds as any other input.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

from ..settings import IngestLimits, limit_names
from .records import BadInput

__all__ = ["SUPPORTED", "count_members", "list_members", "open_member"]

#: Compression methods read: stored, deflate and bzip2 (LZMA members are rare and have a
#: header of zipfile's own making; they are rejected with the method named).
SUPPORTED = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2"}

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_LOCAL = struct.Struct("<4s5H3L2H")  # a member's local header
_CENTRAL = struct.Struct("<4s6H3L3H12x")  # a central directory entry: its lengths of name, extra, comment


def _end_record(path: Path) -> tuple[int, int, int] | None:
    """(members listed, where the central directory starts, its size), from the end
    record (zip64 included), the directory placed where :mod:`zipfile` looks for it;
    None when there is no end record."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        back = min(size, _EOCD.size + 65535)
        fh.seek(size - back)
        tail = fh.read(back)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD.size > len(tail):
            return None
        _, _, _, _, count, cd_size, _, _ = _EOCD.unpack_from(tail, at)
        location = size - back + at
        if count != 0xFFFF or at < _EOCD64_LOCATOR.size:
            return int(count), location - cd_size, int(cd_size)
        sig, _, where, _ = _EOCD64_LOCATOR.unpack_from(tail, at - _EOCD64_LOCATOR.size)
        if sig != b"PK\x06\x07" or where + _EOCD64.size > size:
            return int(count), location - cd_size, int(cd_size)
        fh.seek(where)
        record = fh.read(_EOCD64.size)
        if len(record) < _EOCD64.size or record[:4] != b"PK\x06\x06":
            return int(count), location - cd_size, int(cd_size)
        fields = _EOCD64.unpack(record)
        cd_size = fields[8]
        return int(fields[7]), location - _EOCD64.size - _EOCD64_LOCATOR.size - cd_size, int(cd_size)


def count_members(path: Path) -> int | None:
    """The number of members the archive's directory lists, read from its last bytes
    (zip64 included); None when the end record cannot be found."""
    end = _end_record(path)
    return end[0] if end else None


def _entries_over(path: Path, start: int, size: int, cap: int) -> bool:
    """Whether the central directory holds more than ``cap`` entries, counted the way
    :mod:`zipfile` walks it (46-byte headers and their lengths within ``size`` bytes),
    reading headers only and stopping at ``cap + 1``: an end record that understates
    the count cannot make zipfile load millions of entries."""
    if start < 0:
        return False  # zipfile will say the archive is broken
    entries = done = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        while done < size:
            head = fh.read(_CENTRAL.size)
            if len(head) < _CENTRAL.size or head[:4] != b"PK\x01\x02":
                return False  # broken: zipfile says so
            entries += 1
            if entries > cap:
                return True
            name, extra, comment = _CENTRAL.unpack(head)[-3:]
            fh.seek(name + extra + comment, 1)
            done += _CENTRAL.size + name + extra + comment
    return False


def list_members(path: Path, limits: IngestLimits) -> list[zipfile.ZipInfo]:
    """The archive's file members, in name order. Raises BadInput when the archive is
    broken or lists more members than ``limits.max_zip_members`` (then nothing is read)."""
    try:
        end = _end_record(path)
        cap = limits.max_zip_members
        if cap and end is not None and end[0] > cap:
            raise BadInput(
                f"zip archive lists {end[0]:,} members, over the limit of {cap:,} "
                f"({limit_names('max_zip_members')}); nothing in it was read"
            )
        if cap and end is not None and _entries_over(path, end[1], end[2], cap):
            raise BadInput(
                f"zip archive has more than {cap:,} members (its end record says {end[0]:,}; "
                f"{limit_names('max_zip_members')}); nothing in it was read"
            )
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
    except BadInput:
        raise
    except Exception as exc:  # zipfile raises BadZipFile, OSError, ValueError, NotImplementedError, ...
        raise BadInput(f"broken zip archive: {exc}") from None
    if cap and len(infos) > cap:  # no readable end record, or one that lies
        raise BadInput(
            f"zip archive has {len(infos):,} members, over the limit of {cap:,} ({limit_names('max_zip_members')})"
        )
    return sorted(infos, key=lambda i: i.filename)


def open_member(path: Path, info: zipfile.ZipInfo) -> BinaryIO:
    """A file positioned at the first compressed byte of a member (read at most
    ``info.compress_size`` bytes of it). Raises BadInput for what cannot be read."""
    if info.flag_bits & 0x1:
        raise BadInput("zip member is encrypted")
    if info.compress_type not in SUPPORTED:
        raise BadInput(
            f"zip member uses compression method {info.compress_type}, not read (only stored, deflate, bzip2)"
        )
    fh = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    try:
        fh.seek(info.header_offset)
        header = fh.read(_LOCAL.size)
        if len(header) < _LOCAL.size or header[:4] != b"PK\x03\x04":
            raise BadInput("broken zip archive: a member's local header is missing")
        name_len, extra_len = _LOCAL.unpack(header)[-2:]
        fh.seek(info.header_offset + _LOCAL.size + name_len + extra_len)
    except BaseException:
        fh.close()
        raise
    return fh
