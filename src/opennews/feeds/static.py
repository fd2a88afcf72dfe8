"""Static feed files under ``feeds/``, laid out like the URLs, for nginx or a CDN to serve.

``feeds/latest.rss``, ``feeds/source/<source>.atom``, ``feeds/category/<category>.json``,
``feeds/feeds.opml``, each with a ``.gz`` twin (nginx ``gzip_static``). Files are written
atomically (a temporary file renamed over the old one, so a reader never sees half a feed)
and only when their bytes change, so their modification time, and the ETag a static server
derives from it, moves only with the content. Feeds of sources or categories that no longer
exist are removed.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

from ..files import write_atomically
from .catalog import Catalog
from .collect import Reader, collect
from .opml import render_opml
from .render import render
from .spec import FORMATS, FeedSpec

__all__ = ["StaticReport", "safe_name", "write_static"]


@dataclass
class StaticReport:
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    removed: list[Path] = field(default_factory=list)


def safe_name(name: str) -> bool:
    """Whether a source or category can be a file name as it is (its URL decodes to it)."""
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".") and len(name) < 200


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
        for n in names:
            if not safe_name(n):
                continue
            stem = feeds_dir / kind / n
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
