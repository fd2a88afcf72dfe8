"""HTML to article text, with the standard library's tolerant parser.

Used for feed content and for saved article pages. Paragraph structure is kept
(one paragraph per block element), pictures come out with their captions, and
page chrome (scripts, navigation, forms, asides) never reaches the body. Each
paragraph remembers whether it stood in the headline (``<h1>``) or in an element
marked as the lead (``class="sapo"``, ``description``, ``lead``…), because
outlets print both inside ``<article>`` and the reader must not repeat them in
the body.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Block", "HtmlText", "html_to_text", "parse_page"]

_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "figure",
    "figcaption",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "pre",
    "hr",
    "dd",
    "dt",
    "main",
}
_SKIP = {"script", "style", "noscript", "iframe", "svg", "form", "nav", "aside", "button", "select", "template", "head"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "source", "area", "base", "col", "embed", "param", "track", "wbr"}
# Class names Vietnamese and international CMSs give the lead: "sapo", "detail-sapo",
# "article__sapo", "description" (VnExpress), "lead", "summary", "chapeau", "standfirst".
# The word ends the class name ("lead-image" is a picture, not the lead); "sapo" means
# the lead wherever it stands ("sapo_detail").
_LEAD_CLASS = re.compile(
    r"sapo|(?:^|[-_])(?:lead|description|summary|chapeau|standfirst|excerpt|teaser)(?:[-_](?:text|detail))?$", re.I
)


@dataclass(frozen=True, slots=True)
class Block:
    """One paragraph of a page: its text, its role ("headline" inside ``<h1>``, "lead"
    inside an element marked as the lead, else None) and whether it is in ``<article>``."""

    text: str
    role: str | None = None
    in_article: bool = False


@dataclass
class HtmlText:
    """What a page or fragment says: paragraphs, pictures, and the page's metadata."""

    blocks: list[Block] = field(default_factory=list)
    images: list[dict[str, str | None]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    jsonld: list[str] = field(default_factory=list)
    title: str | None = None
    canonical: str | None = None

    @property
    def paragraphs(self) -> list[str]:
        return [b.text for b in self.blocks]

    @property
    def article_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.in_article]


def _role(tag: str, attrs: dict[str, str]) -> str | None:
    if tag == "h1":
        return "headline"
    if attrs.get("itemprop", "").lower() == "description" or any(
        _LEAD_CLASS.search(c) for c in attrs.get("class", "").split()
    ):
        return "lead"
    return None


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = HtmlText()
        self._buf: list[str] = []
        self._skip = 0
        self._in_caption = 0
        self._caption: list[str] = []
        self._in_title = False
        self._title: list[str] = []
        self._in_jsonld = False
        self._jsonld: list[str] = []
        self._article_depth = 0
        # Open elements as (tag, the role they inherit: their own or the nearest one around
        # them), and per tag the roles of its open elements, innermost last. Broken markup
        # leaves tens of thousands of elements open: every lookup here is O(1), where a
        # scan of the stack per paragraph took 119 s for 240 KB of unclosed <div>s.
        self._stack: list[tuple[str, str | None]] = []
        self._open: dict[str, list[str | None]] = {}

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        self._buf.clear()
        if text:
            role = self._stack[-1][1] if self._stack else None
            self.out.blocks.append(Block(text, role, bool(self._article_depth)))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "meta":
            key = a.get("property") or a.get("name") or a.get("itemprop")
            if key and "content" in a:
                self.out.meta.setdefault(key.lower(), a["content"])
            return
        if tag == "link" and a.get("rel", "").lower() == "canonical" and a.get("href"):
            self.out.canonical = a["href"]
            return
        if tag == "script" and a.get("type", "").lower() == "application/ld+json":
            self._in_jsonld = True
            self._jsonld = []
            return
        if tag == "title":
            self._in_title = True
            return
        if tag in _SKIP:
            self._skip += 1
            return
        if self._skip:
            return
        role = _role(tag, a)
        if tag in _BLOCK or role:
            self._flush()  # text before this element belongs to the one around it
        if tag not in _VOID:
            self._stack.append((tag, role or (self._stack[-1][1] if self._stack else None)))
            self._open.setdefault(tag, []).append(role)
        if tag == "article":
            self._article_depth += 1
        if tag == "img":
            src = a.get("src") or a.get("data-src") or a.get("data-original")
            if src:
                self.out.images.append({"url": src, "caption": a.get("alt") or None})
            return
        if tag == "figcaption":
            self._in_caption += 1
            self._caption = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_jsonld:
            self._in_jsonld = False
            self.out.jsonld.append("".join(self._jsonld))
            return
        if tag == "title":
            self._in_title = False
            return
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        roles = self._open.get(tag)
        if tag in _BLOCK or tag == "article" or (roles and roles[-1]):
            self._flush()  # before the element closes: its text has its role
        if roles:  # close it and what is still open inside it
            while self._stack:
                open_tag, _ = self._stack.pop()
                self._open[open_tag].pop()
                if open_tag == tag:
                    break
        if tag == "figcaption" and self._in_caption:
            self._in_caption -= 1
            caption = " ".join("".join(self._caption).split())
            if caption:
                if (self.out.images and not self.out.images[-1].get("caption")) or (
                    self.out.images and self.out.images[-1].get("caption") != caption
                ):
                    self.out.images[-1]["caption"] = caption
                else:
                    self.out.images.append({"url": None, "caption": caption})
            return
        if tag == "article" and self._article_depth:
            self._article_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_jsonld:
            self._jsonld.append(data)
        elif self._in_title:
            self._title.append(data)  # joined at the end: a concatenation per piece was quadratic
        elif self._skip:
            return
        elif self._in_caption:
            self._caption.append(data)
        else:
            self._buf.append(data)

    def close(self) -> None:
        super().close()
        self._flush()
        self.out.title = "".join(self._title).strip() or None


def parse_page(markup: str) -> HtmlText:
    """Parse a page or fragment; never raises on broken markup."""
    parser = _Extractor()
    parser.feed(markup)
    parser.close()
    return parser.out


def html_to_text(markup: str | None) -> tuple[str, list[dict[str, str | None]]]:
    """A fragment's text (paragraphs joined by blank lines) and its images.

    Plain text with stray entities is handled too: it comes back unescaped.
    """
    if not markup:
        return "", []
    if "<" not in markup:
        return html.unescape(markup).strip(), []
    out = parse_page(markup)
    return "\n\n".join(out.paragraphs), out.images
