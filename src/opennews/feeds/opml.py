"""OPML 2.0 subscription lists: every source and category feed, importable into any reader."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from .model import EPOCH, plain
from .spec import FeedSpec

__all__ = ["render_opml"]


def _outline(parent: etree._Element, spec: FeedSpec, base_url: str, text: str) -> None:
    etree.SubElement(
        parent,
        "outline",
        type="rss",
        text=plain(text),
        title=plain(text),
        xmlUrl=spec.url(base_url, "rss"),
        htmlUrl=spec.html_url(base_url),
        language="vi",
    )


def render_opml(
    base_url: str, sources: Sequence[str], categories: Sequence[str], modified: datetime | None = None
) -> bytes:
    """``modified`` is the newest article (a fixed date when there is none): stable bytes."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = "opennews · Tin tức tiếng Việt"
    etree.SubElement(head, "dateModified").text = format_datetime(modified or EPOCH)
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    _outline(body, FeedSpec(), base_url, "Tin mới nhất")
    for label, kind, names in (("Nguồn", "source", sources), ("Chuyên mục", "category", categories)):
        group = etree.SubElement(body, "outline", text=label, title=label)
        for name in names:
            _outline(group, FeedSpec(kind=kind, value=name), base_url, name)  # type: ignore[arg-type]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)  # type: ignore[no-any-return]
