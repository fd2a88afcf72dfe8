"""One entry point for writing a feed in any format, as cacheable bytes with validators."""

from __future__ import annotations

from collections.abc import Callable

from .atom import render_atom
from .http import Document, make_document
from .jsonfeed import render_json
from .model import Feed
from .rss import render_rss
from .spec import FORMATS

__all__ = ["RENDERERS", "document", "render"]

RENDERERS: dict[str, Callable[[Feed], bytes]] = {"rss": render_rss, "atom": render_atom, "json": render_json}


def render(feed: Feed, fmt: str) -> bytes:
    return RENDERERS[fmt](feed)


def document(feed: Feed, fmt: str) -> Document:
    """The bytes plus what HTTP needs; ``max-age`` equals the RSS ``<ttl>``."""
    return make_document(render(feed, fmt), FORMATS[fmt], feed.last_modified, feed.ttl_minutes * 60)
