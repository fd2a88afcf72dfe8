"""RSS 2.0 through feedgen, with Dublin Core rights and creator, Media RSS and RFC 5005 links.

How feedgen is called matters (see :mod:`.extension` for what it gets wrong): the self
link is added *before* the home-page link because feedgen puts the last link added in
``<channel><link>``; ``lastBuildDate`` and ``pubDate`` are set to the newest item because
they default to now; entries are appended in order because ``add_entry`` prepends.
"""

from __future__ import annotations

from feedgen.feed import FeedGenerator

from .extension import EntryExtension, FeedExtension
from .model import RIGHTS, Feed

__all__ = ["render_rss"]


def render_rss(feed: Feed) -> bytes:
    fg = FeedGenerator()
    fg.register_extension("opennews", FeedExtension, EntryExtension, atom=False, rss=True)
    fg.opennews.feed, fg.opennews.fmt = feed, "rss"
    fg.title(feed.title)
    fg.description(feed.subtitle)
    self_url = feed.link("self", "rss")
    if self_url:
        fg.link(href=self_url, rel="self")  # first: feedgen writes the LAST link into <channel><link>
    fg.link(href=feed.home_url, rel="alternate")
    fg.language("vi")
    fg.lastBuildDate(feed.updated)
    fg.pubDate(feed.updated)
    fg.ttl(feed.ttl_minutes)
    fg.generator("opennews")
    fg.docs("https://www.rssboard.org/rss-specification")
    fg.copyright(RIGHTS)
    for item in feed.items:
        fe = fg.add_entry(order="append")
        fe.opennews.item, fe.opennews.licence_url = item, feed.licence_url
        fe.guid(item.guid, permalink=False)
        fe.title(item.title)
        fe.link(href=item.link)
        fe.description(item.summary or item.title)
        fe.content(item.content_html)
        fe.pubDate(item.published)
        for name in item.categories:
            fe.category(term=name)
        if item.images:  # RSS allows one enclosure; media:content lists them all
            first = item.images[0]
            fe.enclosure(first.url, "0", first.type)
    return fg.rss_str(pretty=False, encoding="UTF-8", xml_declaration=True)  # type: ignore[no-any-return]
