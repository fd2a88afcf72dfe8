"""JSON objects of the shapes news comes in, mapped onto the article's fields.

Three shapes are recognised by their keys: our own record (passed through
untouched, so dumps round-trip exactly), news-please output (VFND and many
crawls), and schema.org ``NewsArticle`` JSON-LD. Anything else with a title and
some text is read through a table of common key names.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from ..html import html_to_text

__all__ = ["map_object", "shape_of"]

_OURS = frozenset(
    (
        "id",
        "url",
        "source",
        "category",
        "title",
        "sapo",
        "body",
        "author",
        "published",
        "updated",
        "lang",
        "images",
        "tags",
        "content_hash",
        "ingested_at",
    )
)
_JSONLD_TYPES = {"newsarticle", "article", "reportagenewsarticle", "blogposting", "analysisnewsarticle"}
_NEWS_PLEASE = {"source_domain", "date_publish", "meta_data", "top_img", "date_download", "authors"}

_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "name"),
    "sapo": ("sapo", "description", "summary", "lead", "abstract", "excerpt", "teaser"),
    "body": ("body", "content", "text", "articleBody", "article_body", "full_text"),
    "url": ("url", "link", "canonical_link", "canonical_url", "permalink"),
    "published": (
        "published",
        "datePublished",
        "date_published",
        "publish_date",
        "published_at",
        "pubDate",
        "date",
        "time",
    ),
    "updated": ("updated", "dateModified", "date_modified", "updated_at", "modified"),
    "author": ("author", "authors", "byline", "creator"),
    "category": ("category", "section", "articleSection", "categories"),
    "tags": ("tags", "keywords"),
    "images": ("images", "image", "image_url", "top_img"),
    "source": ("source", "publisher", "site", "source_domain"),
    "id": ("id",),
    "lang": ("lang", "language", "inLanguage"),
    "ingested_at": ("ingested_at",),
}


def shape_of(obj: Mapping[str, Any]) -> str:
    """Which known shape a JSON object has: "opennews", "jsonld", "news-please" or "generic"."""
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    if any(isinstance(k, str) and k.lower() in _JSONLD_TYPES for k in kinds):
        return "jsonld"
    if "title" in obj and "body" in obj and obj.keys() <= _OURS:
        return "opennews"
    if len(_NEWS_PLEASE & obj.keys()) >= 2:
        return "news-please"
    return "generic"


def map_object(obj: Any) -> dict[str, Any]:
    """Fields for :func:`opennews.article.make_article` from one JSON object."""
    if not isinstance(obj, Mapping):
        return {"__not_object__": type(obj).__name__}
    shape = shape_of(obj)
    if shape == "opennews":
        return dict(obj)
    if shape == "jsonld":
        return _from_jsonld(obj)
    if shape == "news-please":
        return _from_news_please(obj)
    return _generic(obj)


def _first(obj: Mapping[str, Any], key: str) -> Any:
    for name in _ALIASES[key]:
        value = obj.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def _name(value: Any) -> Any:
    """schema.org values are often {"@type": ..., "name": ...} or lists of them."""
    if isinstance(value, Mapping):
        return value.get("name") or value.get("@id") or value.get("url")
    if isinstance(value, list):
        names = [_name(v) for v in value]
        return [n for n in names if n] or None
    return value


def _unescape(value: Any) -> Any:
    return html.unescape(value) if isinstance(value, str) else value


def _text_of(value: Any) -> Any:
    """Body text that may be HTML, a list of paragraphs, or plain text."""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value if v)
    if isinstance(value, str) and "<" in value and ">" in value:
        return html_to_text(value)[0]
    return _unescape(value)


def _generic(obj: Mapping[str, Any]) -> dict[str, Any]:
    fields = {key: _first(obj, key) for key in _ALIASES}
    if isinstance(fields["author"], (Mapping, list)):
        fields["author"] = _name(fields["author"])
    if isinstance(fields["source"], Mapping):
        fields["source"] = _name(fields["source"])
    if isinstance(fields["category"], list):
        fields["category"] = " / ".join(str(c) for c in fields["category"] if c)
    fields["body"] = _text_of(fields["body"])
    if fields["id"] is not None and not isinstance(fields["id"], str):
        fields["id"] = str(fields["id"])
    return fields


def _as_images(*values: Any) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if not value:
            continue
        if isinstance(value, Mapping) and "url" not in value and "src" not in value and "@type" not in value:
            value = list(value.values())  # {"image1": url, "image2": url}
        if isinstance(value, Mapping):
            value = [value]
        if isinstance(value, str):
            value = [value]
        for item in value:
            if isinstance(item, Mapping) and item.get("@type") == "ImageObject":
                out.append({"url": item.get("url") or item.get("contentUrl"), "caption": item.get("caption")})
            else:
                out.append(item)
    return out


def _looks_like_domain(text: Any) -> bool:
    return isinstance(text, str) and " " not in text.strip() and "." in text


def _from_jsonld(obj: Mapping[str, Any]) -> dict[str, Any]:
    url = obj.get("url")
    page = obj.get("mainEntityOfPage")
    if not url and isinstance(page, Mapping):
        url = page.get("@id")
    elif not url and isinstance(page, str):
        url = page
    author = _name(obj.get("author"))
    if _looks_like_domain(author) or (isinstance(author, list) and all(_looks_like_domain(a) for a in author)):
        author = None  # "dantri.com.vn" is the outlet, not a byline
    tags = obj.get("keywords")
    if isinstance(tags, str):
        tags = tags.split(",")
    hash_tags = obj.get("hash-tags")
    if not tags and isinstance(hash_tags, Mapping):
        tags = [_tag_from_slug(v) for v in hash_tags.values()]
    return {
        "url": url,
        "title": _unescape(obj.get("headline") or obj.get("name")),
        "sapo": _unescape(obj.get("description")),
        "body": _text_of(obj.get("articleBody") or obj.get("content") or obj.get("text")),
        "published": obj.get("datePublished"),
        "updated": obj.get("dateModified") if obj.get("dateModified") != obj.get("datePublished") else None,
        "author": author,
        "category": _name(obj.get("articleSection") or obj.get("category")),
        "tags": tags,
        "images": _as_images(obj.get("image"), obj.get("image-urls")),
        "lang": obj.get("inLanguage") or obj.get("language"),
    }


def _tag_from_slug(slug: Any) -> str | None:
    if not isinstance(slug, str):
        return None
    name = slug.strip("/").rsplit("/", 1)[-1]
    name = re.sub(r"\.(tag|html?)$", "", name)
    return unquote(name).replace("-", " ") or None


def _news_please_date(value: Any) -> Any:
    if isinstance(value, Mapping):
        value = value.get("$date")
    if isinstance(value, str) and value.endswith(" 00:00:00"):
        return value[:10]  # midnight means "time unknown" in news-please
    return value


def _section_from_url(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "tin-tuc":
        return parts[1]
    return None


def _from_news_please(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("meta_data") if isinstance(obj.get("meta_data"), Mapping) else {}
    article_meta = meta.get("article") if isinstance(meta.get("article"), Mapping) else {}
    authors = obj.get("authors") or meta.get("author")
    url = obj.get("url") or obj.get("canonical_link")
    sapo = obj.get("description") or meta.get("description") or obj.get("summary")
    return {
        "url": url,
        "title": _unescape(obj.get("title") or obj.get("title_page") or obj.get("title_rss")),
        "sapo": _unescape(sapo),
        "body": _unescape(obj.get("text") or obj.get("maintext")),
        "published": _news_please_date(obj.get("date_publish") or obj.get("publish_date")),
        "updated": _news_please_date(obj.get("date_modify")),
        "author": ", ".join(authors) if isinstance(authors, list) else authors,
        "category": article_meta.get("section") or _section_from_url(url),
        "tags": obj.get("keywords"),
        "images": _as_images(obj.get("image_url") or obj.get("top_img"), obj.get("image-url")),
        "lang": obj.get("language"),
    }
