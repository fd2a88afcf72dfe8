"""Plain-text articles: page-text dumps, "Key: value" files, "# key = value" headers.

Page-text is what copying a news page as text gives: a language switch, a date
line, the title, the lead, photo captions among body paragraphs, the author line,
then share buttons and footer. Each line is classified by what it looks like, so
the body never carries navigation or share text. The same classifier reads the
simpler one-line-per-paragraph dumps (title, sapo, body lines) and word-segmented
corpora ("Hà_Nội" becomes "Hà Nội").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ...vietnamese import parse_datetime
from ..records import Document, Found, Reject

__all__ = ["classify_lines", "desegment", "read_headers", "read_keyvalue", "read_pagetext", "strip_inline_footer"]

_LANG_NAMES = r"(?:tiếng việt|english|tiếng anh|vietnamese|vi|vn|en|中文|français|日本語|한국어|русский)"
_LANG_SWITCH = re.compile(rf"^\s*{_LANG_NAMES}(?:\s*[|/·•-]\s*{_LANG_NAMES})+\s*$", re.I)
_BREADCRUMB = re.compile(r"^\s*(?:trang chủ|home)\s*(?:[>»/|›]\s*[^>»/|›]+)+$", re.I)

# A line that starts the trailing chrome: everything from it on is dropped.
_CUT = re.compile(
    r"^\s*(?:chia sẻ(?: bài viết| bài| lên| qua)?|share(?: this)?|bình luận|ý kiến bạn đọc|gửi (?:ý kiến|bình luận)|"
    r"tin (?:liên quan|cùng chuyên mục|khác|mới nhất|nổi bật)|bài viết liên quan|các tin khác|xem thêm|đọc thêm|"
    r"tags?|từ khóa|từ khoá|chủ đề|theo dõi (?:chúng tôi|báo)|bản quyền|copyright|©|in bài(?: viết)?|"
    r"gửi email|lên đầu trang|về trang chủ|quay lại|đầu trang|facebook|twitter|zalo|email)\b.{0,120}$",
    re.I,
)
_CAPTION = re.compile(r"^(?:ảnh|hình|video|clip|nguồn ảnh)\s*:|\((?:ảnh|nguồn|video|clip)\s*:?[^)]*\)\s*$", re.I)
_AUTHOR_PREFIX = re.compile(r"^\s*(?:tác giả|bài(?: và ảnh)?|phóng viên|pv|btv|nhóm phóng viên)\s*:\s*(.+)$", re.I)
_THEO = re.compile(r"^\s*\(?theo\s+[^.!?]{2,60}\)?\s*$", re.I)
_SENTENCE_END = (".", "!", "?", "…", ":", ";", '"', "”", "»", "'", "’", ")")
_PAREN = re.compile(r"\([^)]*\)")
# Footer text glued to the last paragraph when a page lost its line breaks.
_INLINE_FOOTER = re.compile(
    r"\s*(?:©\s*\d{4}|Toàn bộ bản quyền thuộc|Bản quyền thuộc về|Đường dây nóng\s*:|"
    r"Bạn đã được chuyển sang trang|Ghi rõ nguồn .{0,30} khi phát hành lại).*$",
    re.S,
)
_SEGMENTED = re.compile(r"(?<=[^\W\d_])_(?=[^\W\d_])")
_DOC_ID_SECTION = re.compile(r"^news_([a-z]+)_\d+$")
_HEADER = re.compile(r"^#\s*([\w .-]+?)\s*=\s*(.*)$")
_KEY_VALUE = re.compile(r"^([A-Za-z][A-Za-z ]{0,30}):\s?(.*)$")

_KV_FIELDS = {
    "title": "title",
    "source": "_outlet",
    "link": "url",
    "url": "url",
    "published date": "published",
    "published": "published",
    "date": "published",
    "time": "published",
    "author": "author",
    "tags": "tags",
    "keywords": "tags",
    "summary": "sapo",
    "sapo": "sapo",
    "description": "sapo",
    "category": "category",
    "content": "body",
    "body": "body",
}
_HEADER_FIELDS = {
    "url": "url",
    "date": "published",
    "published": "published",
    "title": "title",
    "author": "author",
    "category": "category",
    "source": "source",
    "doc_id": "_doc_id",
}


def desegment(text: str) -> str:
    """Undo word segmentation ("Hà_Nội" -> "Hà Nội"); other underscores stay."""
    return _SEGMENTED.sub(" ", text)


def strip_inline_footer(paragraph: str) -> str:
    """Cut copyright/hotline footer text that a scrape glued onto the last paragraph."""
    return _INLINE_FOOTER.sub("", paragraph)


def _is_segmented(text: str) -> bool:
    return len(_SEGMENTED.findall(text[:20000])) >= 3


def _is_date_line(line: str) -> Any:
    if len(line) > 60 or not any(ch.isdigit() for ch in line):
        return None
    try:
        return parse_datetime(line)
    except ValueError:
        return None


def _is_author_line(line: str) -> str | None:
    m = _AUTHOR_PREFIX.match(line)
    if m:
        return m.group(1).strip()
    if _THEO.match(line):
        return line.strip().strip("()").strip()
    words = _PAREN.sub("", line).split()
    if not 1 <= len(words) <= 7 or len(line) > 60 or line.rstrip().endswith(_SENTENCE_END[:-1]):
        return None
    letters = [w for w in words if w[:1].isalpha()]
    if letters and all(w[:1].isupper() for w in letters) and not any(ch.isdigit() for ch in line):
        return line.strip()
    return None


def _is_caption(line: str) -> bool:
    if _CAPTION.search(line):
        return True
    stripped = line.rstrip()
    return len(stripped.split()) >= 8 and len(stripped) < 300 and not stripped.endswith(_SENTENCE_END)


def classify_lines(lines: list[str], *, has_title: bool = False, has_sapo: bool = False) -> dict[str, Any]:
    """Tell apart the parts of a page-text article.

    Returns fields for make_article plus ``_chrome``: how many lines were dropped
    as navigation or boilerplate (for tests and for the curious).
    """
    lines = [" ".join(x.split()) for x in lines]
    lines = [x for x in lines if x]
    chrome = 0
    fields: dict[str, Any] = {}

    # Leading chrome: language switch, breadcrumbs; a date line near the top.
    head: list[str] = []
    for i, line in enumerate(lines):
        if i < 6 and (_LANG_SWITCH.match(line) or _BREADCRUMB.match(line)):
            chrome += 1
            continue
        head.append(line)
    lines = head
    for i, line in enumerate(lines[:4]):
        when = _is_date_line(line)
        if when is not None:
            fields["published"] = when
            del lines[i]
            break

    # Trailing chrome: from the first cut marker after the lead, drop everything.
    start = 0 if has_title else 1
    for i in range(start + 1, len(lines)):
        if _CUT.match(lines[i]) and len(lines[i]) < 140:
            chrome += len(lines) - i
            lines = lines[:i]
            break
    while lines and (_LANG_SWITCH.match(lines[-1]) or _CUT.match(lines[-1])):
        chrome += 1
        lines.pop()

    if not has_title and lines:
        fields["title"] = lines.pop(0)
    if len(lines) >= 2:
        author = _is_author_line(lines[-1])
        if author:
            fields["author"] = author
            lines.pop()
    if not has_sapo and len(lines) >= 2 and not _CAPTION.search(lines[0]):
        fields["sapo"] = lines.pop(0)

    body: list[str] = []
    captions: list[dict[str, str | None]] = []
    for line in lines:
        if _is_caption(line) and len(lines) > 1:
            captions.append({"url": None, "caption": line})
        else:
            body.append(line)
    if body:
        body[-1] = strip_inline_footer(body[-1])
    fields["body"] = "\n".join(x for x in body if x)
    if captions:
        fields["images"] = captions
    fields["_chrome"] = chrome
    return fields


def read_pagetext(doc: Document) -> Iterator[Found | Reject]:
    """One article per file, laid out as page text or title/sapo/body lines."""
    text = desegment(doc.text) if _is_segmented(doc.text) else doc.text
    fields = classify_lines(text.splitlines())
    fields.pop("_chrome", None)
    yield Found("file", fields)


def read_headers(doc: Document) -> Iterator[Found | Reject]:
    """ "# key = value" header lines, then the article as lines (title, sapo, body)."""
    lines = doc.text.splitlines()
    meta: dict[str, Any] = {}
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
        m = _HEADER.match(lines[i].strip())
        if m and m.group(1).strip().lower() in _HEADER_FIELDS:
            meta[_HEADER_FIELDS[m.group(1).strip().lower()]] = m.group(2).strip()
        i += 1
    rest = "\n".join(lines[i:])
    if _is_segmented(rest):
        rest = desegment(rest)
    fields = classify_lines(rest.splitlines(), has_title="title" in meta)
    fields.pop("_chrome", None)
    for key, value in meta.items():
        if not key.startswith("_") and value:
            fields[key] = value
    section = _DOC_ID_SECTION.match(meta.get("_doc_id", ""))
    if section and not fields.get("category"):
        fields["category"] = section.group(1)
    yield Found("file", fields)


def read_keyvalue(doc: Document) -> Iterator[Found | Reject]:
    """ "Title: … / Link: … / Content: …" files; a paired ``.body.txt`` supplies the body."""
    fields: dict[str, Any] = {}
    current: str | None = None
    for raw in doc.text.splitlines():
        m = _KEY_VALUE.match(raw)
        key = m.group(1).strip().lower() if m else None
        if key in _KV_FIELDS:
            current = _KV_FIELDS[key]
            fields[current] = m.group(2).strip()  # type: ignore[union-attr]
        elif current in ("body", "sapo") and raw.strip():
            fields[current] = fields[current] + "\n" + raw.strip()
    if "body" in doc.extras:
        fields["body"] = doc.extras["body"]
    if isinstance(fields.get("body"), str):
        lines = fields["body"].rstrip().split("\n")
        lines[-1] = strip_inline_footer(lines[-1])
        fields["body"] = "\n".join(lines)
    for key in ("title", "sapo"):
        if isinstance(fields.get(key), str) and _SEGMENTED.search(fields[key]):
            fields[key] = desegment(fields[key]).strip()
    if fields.get("published", "").strip().upper() in ("N/A", "NA", "NONE", "NULL", "-"):
        fields["published"] = None
    outlet = fields.pop("_outlet", None)
    title = fields.get("title")
    if outlet and isinstance(title, str):
        # "Headline - VnExpress Đời sống": the outlet's name is not part of the headline.
        fields["title"] = re.sub(rf"\s+[-–|]\s+{re.escape(outlet)}(?:\s+[^-–|]{{1,30}})?$", "", title)
    if isinstance(fields.get("author"), str) and not fields["author"].strip():
        fields["author"] = None
    yield Found("file", fields)
