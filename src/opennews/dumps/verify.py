"""Checking a downloaded copy of the dumps against its manifest.

Sizes first (a truncated download shows at once), then SHA-256 of every file; with
``deep``, compressed NDJSON files are also decompressed and their lines counted and
parsed, which catches a manifest that lies as well as bytes that rot.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from .manifest import MANIFEST, is_dump_name, load_manifest

__all__ = ["VerifyReport", "verify_dumps"]


@dataclass
class VerifyReport:
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _open_decompressed(path: Path) -> IO[bytes] | None:
    """The NDJSON inside a compressed dump file (None for other formats, or zstd without zstandard)."""
    if ".ndjson." not in path.name:
        return None
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.name.endswith(".zst"):
        try:
            import zstandard
        except ImportError:
            return None
        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)  # type: ignore[return-value]
    return None


def _count_lines(path: Path) -> int | None:
    stream = _open_decompressed(path)
    if stream is None:
        return None
    count = 0
    with stream:
        rest = b""
        while block := stream.read(1 << 20):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                orjson.loads(line)
                count += 1
        if rest.strip():
            orjson.loads(rest)
            count += 1
    return count


def verify_dumps(directory: Path, *, deep: bool = False, progress: Callable[[str], None] | None = None) -> VerifyReport:
    directory = Path(directory)
    report = VerifyReport()
    manifest = load_manifest(directory)
    if manifest is None:
        report.problems.append(f"no readable {MANIFEST} in {directory}")
        return report
    listed: set[str] = set()
    for entry in manifest["files"]:
        name = entry.get("name", "")
        listed.add(name)
        if not is_dump_name(name):
            report.problems.append(f"{name!r}: not a dump file name; refusing to read it")
            continue
        if progress:
            progress(name)
        path = directory / name
        if not path.is_file() or path.is_symlink():
            report.problems.append(f"{name}: missing")
            continue
        size = path.stat().st_size
        if size != entry["bytes"]:
            report.problems.append(f"{name}: {size:,} bytes, the manifest says {entry['bytes']:,} (incomplete?)")
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        if digest.hexdigest() != entry["sha256"]:
            report.problems.append(f"{name}: SHA-256 differs from the manifest (corrupt)")
            continue
        if deep:
            problem = _deep_check(path, entry)
            if problem:
                report.problems.append(f"{name}: {problem}")
                continue
        report.checked.append(name)
    for path in sorted(directory.iterdir()):
        if is_dump_name(path.name) and path.name not in listed:
            report.extra.append(path.name)
    return report


def _deep_check(path: Path, entry: dict[str, Any]) -> str | None:
    try:
        lines = _count_lines(path)
    except (OSError, EOFError, ValueError) as exc:
        return f"cannot be read: {exc}"
    if lines is not None and lines != entry["records"]:
        return f"{lines:,} records, the manifest says {entry['records']:,}"
    return None
