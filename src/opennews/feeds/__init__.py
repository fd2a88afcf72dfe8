"""Feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents built from the archive.

No HTTP here: :mod:`.collect` gathers a feed (through the searcher and the archive),
:mod:`.render` writes it in a format, :mod:`.http` holds the validators and the 304
decision the web app uses, :mod:`.static` writes files for a static server.
"""

from .catalog import Catalog, read_catalog
from .collect import ArchiveReader, Reader, collect
from .http import Document, not_modified
from .model import RIGHTS, Feed, FeedItem, item_from_record
from .opml import render_opml
from .render import document, render
from .spec import DEFAULT_LIMIT, FORMATS, MAX_LIMIT, FeedSpec
from .static import write_static

__all__ = [
    "DEFAULT_LIMIT",
    "FORMATS",
    "MAX_LIMIT",
    "RIGHTS",
    "ArchiveReader",
    "Catalog",
    "Document",
    "Feed",
    "FeedItem",
    "FeedSpec",
    "Reader",
    "collect",
    "document",
    "item_from_record",
    "not_modified",
    "read_catalog",
    "render",
    "render_opml",
    "write_static",
]
