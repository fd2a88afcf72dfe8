"""Static feed files under ``feeds/``, laid out like the URLs, for nginx or a CDN to serve.

``feeds/latest.rss``, ``feeds/source/<segment>.atom``, ``feeds/category/<segment>.json``,
``feeds/feeds.opml``, each with a ``.gz`` twin (nginx ``gzip_static``). A file's path is
its URL path decoded, the segment written by :mod:`.names` ("Thế giới / Châu Mỹ" is
``category/Thế giới ~2F Châu Mỹ.rss``), so a server that maps ``/feeds/`` to this folder
finds every feed at the URL the OPML, the pages and the app give it. Files are written
atomically (a temporary file renamed over the old one, so a reader never sees half a feed)
and only when their bytes change, so their modification time, and the ETag a static server
derives from it, moves only with the content. Feeds of sources or categories that no longer
exist are removed.

A few names get no file, and the app answers their URL (the server in front falls back to
it, as for search feeds and archive pages): segments too long for a file name, and names
whose files would be one file on a file system that ignores case or normalises Unicode
(macOS, Windows): "Thể thao" and "Thể Thao" would overwrite each other there.
"""

from __future__ import annotations

import gzip
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..files import write_atomically
from .catalog import Catalog
from .collect import Reader, collect
from .names import MAX_STEM_BYTES, segment
from .opml import render_opml
from .render import render
from .spec import FORMATS, FeedSpec

__all__ = ["StaticReport", "file_stems", "write_static"]


@dataclass
class StaticReport:
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    removed: list[Path] = field(default_factory=list)
    left_to_app: list[str] = field(default_factory=list)  # "kind/name" of feeds with no file


def _fold(stem: str) -> str:
    """What a case-insensitive, normalising file system compares (over-approximated)."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", stem).casefold())


def file_stems(names: Sequence[str]) -> dict[str, str]:
    """The file stem of each name that gets a static file (see the module docstring)."""
    stems = {n: segment(n) for n in names}
    stems = {n: s for n, s in stems.items() if len(s.encode()) <= MAX_STEM_BYTES}
    folded = Counter(_fold(s) for s in stems.values())
    return {n: s for n, s in stems.items() if folded[_fold(s)] == 1}


def _write(path: Path, data: bytes, report: StaticReport) -> None:
    try:
        if path.read_bytes() == data:
            report.unchanged += 1
            return
    except OSError:
        pass
    write_atomically(path, data)
    report.written.append(path)


def _write_pair(path: Path, data: bytes, report: StaticReport, keep: set[Path]) -> None:
    _write(path, data, report)
    gz = path.with_name(path.name + ".gz")
    _write(gz, gzip.compress(data, compresslevel=9, mtime=0), report)
    keep.update((path, gz))


def write_static(
    feeds_dir: Path,
    reader: Reader,
    catalog: Catalog,
    base_url: str,
    *,
    only: set[tuple[str, str]] | None = None,
) -> StaticReport:
    """Write the latest feed, every source's and category's, and the OPML list.

    ``only`` names the (kind, name) feeds whose articles changed: the others are left as
    they are (the latest feed and the OPML are always written; unchanged bytes are not).
    Files of sources and categories no longer in the catalog are removed either way.
    """
    report = StaticReport()
    keep: set[Path] = set()
    specs: list[tuple[FeedSpec, Path]] = [(FeedSpec(), feeds_dir / "latest")]
    for kind, names in (("source", catalog.sources), ("category", catalog.categories)):
        stems = file_stems(names)
        report.left_to_app += [f"{kind}/{n}" for n in names if n not in stems]
        for n, file_stem in stems.items():
            stem = feeds_dir / kind / file_stem
            if only is not None and (kind, n) not in only and stem.with_name(f"{stem.name}.rss").exists():
                keep.update(stem.with_name(f"{stem.name}.{fmt}{gz}") for fmt in FORMATS for gz in ("", ".gz"))
                continue
            specs.append((FeedSpec(kind=kind, value=n), stem))  # type: ignore[arg-type]
    for spec, stem in specs:
        feed = collect(spec, reader, base_url)
        for fmt in FORMATS:
            _write_pair(stem.with_name(f"{stem.name}.{fmt}"), render(feed, fmt), report, keep)
    opml = render_opml(base_url, catalog.sources, catalog.categories, catalog.newest)
    _write_pair(feeds_dir / "feeds.opml", opml, report, keep)
    for kind in ("source", "category"):
        folder = feeds_dir / kind
        if folder.is_dir():
            for path in folder.iterdir():
                if path.is_file() and path not in keep:
                    path.unlink()
                    report.removed.append(path)
    return report
