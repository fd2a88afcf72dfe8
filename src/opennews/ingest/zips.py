"""Zip archives, member by member, without trusting what they say about themselves.

:mod:`zipfile` reads the whole central directory into memory (a ZipInfo of some
400 bytes per member, so a small zip listing ten million empty members costs
gigabytes) and decompresses bzip2 and LZMA members with no bound on the output of
one call. So the member count is read first from the end-of-central-directory
record, and a member's compressed bytes are handed out raw, to be decompressed by
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


def count_members(path: Path) -> int | None:
    """The number of members the archive's directory lists, read from its last bytes
    (zip64 included); None when the end record cannot be found."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        back = min(size, _EOCD.size + 65535)
        fh.seek(size - back)
        tail = fh.read(back)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD.size > len(tail):
            return None
        count = _EOCD.unpack_from(tail, at)[4]
        if count != 0xFFFF or at < _EOCD64_LOCATOR.size:
            return int(count)
        sig, _, where, _ = _EOCD64_LOCATOR.unpack_from(tail, at - _EOCD64_LOCATOR.size)
        if sig != b"PK\x06\x07" or where + _EOCD64.size > size:
            return int(count)
        fh.seek(where)
        record = fh.read(_EOCD64.size)
        if len(record) < _EOCD64.size or record[:4] != b"PK\x06\x06":
            return int(count)
        return int(_EOCD64.unpack(record)[7])


def list_members(path: Path, limits: IngestLimits) -> list[zipfile.ZipInfo]:
    """The archive's file members, in name order. Raises BadInput when the archive is
    broken or lists more members than ``limits.max_zip_members`` (then nothing is read)."""
    try:
        declared = count_members(path)
        cap = limits.max_zip_members
        if cap and declared is not None and declared > cap:
            raise BadInput(
                f"zip archive lists {declared:,} members, over the limit of {cap:,} "
                f"({limit_names('max_zip_members')}); nothing in it was read"
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
