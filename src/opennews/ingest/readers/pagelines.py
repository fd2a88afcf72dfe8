"""The lines of a news page copied as text, told apart.

Copied pages vary: a language switch or none; the date line above or below the
title, written "01/06/2020 - 09:29", "Thứ năm, 3/2/2022 - 09:15", "09:15 ngày
03/02/2022" or "Cập nhật: …"; the byline before the share buttons or after them;
footers worded "Chia sẻ", "Share", "Bình luận", "Tin liên quan", "Từ khóa:"…
One branch per layout would miss the next layout, so the reading is done in two
steps instead. Small pure functions look at one line alone and say what it could
be (:func:`date_line`, :func:`byline`, :func:`footer`, :func:`caption`,
:func:`chrome`); :func:`label_lines` then reads the article off the sequence with
a few rules of position that hold across layouts:

- chrome, date lines and a share bar stand above or below the title; the first
  other line is the title, the next one the lead;
- the first footer line after the lead ends the article: all that follows is
  the page's, not the article's (related headlines, readers' comments);
- the byline is the last line before the footers, or a lone line among them.

Lines are cleaned first (NFC, invisible characters removed): a page copied on a
Mac comes in NFD, and a zero-width space before "Chia sẻ" must not hide a footer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ...vietnamese import clean, parse_datetime

__all__ = ["Line", "byline", "caption", "chrome", "classify_lines", "date_line", "footer", "label_lines"]

_LANG_NAMES = r"(?:tiếng việt|english|tiếng anh|vietnamese|vi|vn|en|中文|français|日本語|한국어|русский)"
_LANG_SWITCH = re.compile(rf"^{_LANG_NAMES}(?:\s*[|/·•-]\s*{_LANG_NAMES})+$", re.I)
# "Trang chủ > Thời sự > Giao thông", "Kinh tế » Thị trường": short segments, an arrow
# between them. A slash is not a breadcrumb separator: "Sở GTVT/UBND tỉnh" is text.
_CRUMB_SEP = re.compile(r"(?<!\s)\s*[>»›]\s*")  # (?<!\s): one scan per blank run, not one per blank
_CRUMB_HOME_SEP = re.compile(r"(?<!\s)\s*[>»›/|]\s*")
_CRUMB_HOME = re.compile(r"^(?:trang chủ|home)$", re.I)

# Labels a page puts before its date; "cập nhật" (updated) says which date it is.
_DATE_LABEL = re.compile(
    r"^(?:(?P<updated>cập nhật|sửa lần cuối|updated|last updated)|ngày đăng|đăng ngày|đăng lúc|đăng|ngày xuất bản|"
    r"xuất bản|thời gian(?: đăng)?|published|posted)(?:\s+(?:lúc|ngày|vào))?\s*:?\s*",
    re.I,
)
_MAX_DATE_LINE = 80
_DIGIT = re.compile(r"\d")

# Footers: a marker alone, or followed by a separator and what it introduces ("Tags: a, b",
# "Tin liên quan: <headline>", "Bình luận (3)"). A sentence that merely starts with the
# same words ("Chia sẻ với báo chí, ông A cho biết…") is text, not a footer.
_SOCIAL = r"(?:facebook|zalo|twitter|x|email|e-mail|messenger|linkedin|telegram|viber|pinterest|copy link|in|print)"
_FOOTERS = {
    "share": r"chia sẻ(?: bài viết| bài| lên| qua| ngay| tin)?|share(?: this(?: article)?| on| bài viết)?|"
    rf"in bài(?: viết)?|in trang|lưu bài(?: viết)?|gửi (?:email|bài viết)|sao chép (?:liên kết|link)|{_SOCIAL}",
    "comments": r"bình luận|ý kiến(?: bạn đọc| của bạn| độc giả)?|gửi (?:ý kiến|bình luận)|viết bình luận",
    "related": r"tin (?:liên quan|cùng chuyên mục|khác|mới nhất|nổi bật|đọc nhiều|cùng chủ đề|mới)|"
    r"bài (?:viết )?(?:liên quan|cùng chuyên mục|khác)|các (?:tin|bài) khác|xem thêm|đọc thêm|"
    r"(?:có thể )?bạn (?:có thể )?quan tâm|đọc nhiều nhất",
    "tags": r"tags?|từ kh(?:óa|oá|oa)|chủ đề|keywords?",
    "nav": r"lên đầu trang|về đầu trang|đầu trang|về trang chủ|quay lại|trở về|theo dõi (?:chúng tôi|báo)\b.*",
    "copyright": r"©.*|copyright\b.*|bản quyền thuộc\b.*|toàn bộ bản quyền\b.*",
}
# A share bar's buttons in a row: "Chia sẻ Facebook Zalo Sao chép liên kết Lưu bài".
_SHARE_BUTTON = rf"(?:{_SOCIAL}|sao chép (?:liên kết|link)|lưu bài(?: viết)?|in bài(?: viết)?|gửi email)"
_FOOTER_TAIL = rf"(?:\s*[:：(\[»>|–—-].*|\s+\d+|(?:\s+{_SHARE_BUTTON})+)?"
# One pattern, one match per line: the group that matched names the kind.
_FOOTER = re.compile(
    "^(?:" + "|".join(f"(?P<{kind}>{words})" for kind, words in _FOOTERS.items()) + f"){_FOOTER_TAIL}$", re.I
)
_MAX_FOOTER = 200
_TAGS_VALUE = re.compile(r"^[^:：]+[:：]\s*(.+)$")

# Bylines: "Tác giả: X", "Bài và ảnh: X", "Theo X", "(Theo TTXVN)", "Nguồn: X", a bare
# name, or a newsroom credit such as "PV" or "Nhóm phóng viên".
_NEWSROOM_WORDS = r"pv|p\.v|btv|ctv|nhóm pv|nhóm btv|nhóm phóng viên|phóng viên"
_BYLINE_PREFIX = re.compile(rf"^(?:tác giả|bài(?: và ảnh)?|bài, ảnh|{_NEWSROOM_WORDS}|nguồn)\s*:\s*(?P<who>.+)$", re.I)
_THEO = re.compile(r"^\(?\s*theo\s+(?P<who>[^.!?,;:()]{2,60}?)\s*\)?\.?$", re.I)
_NEWSROOM = re.compile(rf"^\(?(?:{_NEWSROOM_WORDS})\b[^.!?,;:]{{0,30}}\)?$", re.I)
# Words of a source name that are not capitalised: "Theo báo Tuổi Trẻ", "Theo cổng thông tin…".
_SOURCE_WORDS = {"báo", "tạp", "chí", "đài", "trang", "cổng", "thông", "tin", "điện", "tử", "và", "của"}
_SENTENCE_END = (".", "!", "?", "…", ":", ";", '"', "”", "»", "'", "’", ")")
_PAREN = re.compile(r"\([^)]*\)")
_MAX_NAME_WORDS = 7
_MAX_BYLINE = 60

# Captions: "Ảnh: …" credits, "(Ảnh: …)" or ". Ảnh: Name" at the end, "Ảnh minh họa".
# It is searched in every body line: each repetition is bounded, or a line of "(ảnh "
# repeated made the search quadratic (0.4 s for 40 KB, minutes for a megabyte).
_CAPTION_MARK = re.compile(
    r"^(?:ảnh|hình|video|clip|nguồn ảnh|đồ họa|đồ hoạ|infographic)\s*:|^ảnh minh h(?:ọa|oạ)|"
    r"\((?:ảnh|hình|nguồn|video|clip|đồ họa|đồ hoạ)\b[^)]{0,200}\)\.?$|"
    r"[.!?]\s*(?:ảnh|hình|nguồn ảnh|đồ họa|đồ hoạ)\s*:\s*[^.]{1,60}$",
    re.I,
)
_CREDIT_ONLY = re.compile(r"^(?:ảnh|hình|nguồn ảnh|video|clip)\s*:\s*[^.]{1,60}$", re.I)
_CAPTION_MIN_WORDS = 8
_CAPTION_MAX = 300


def chrome(line: str) -> str | None:
    """What page navigation a line is: "lang" (a language switch), "crumbs" (a
    breadcrumb trail), or None. Both appear above the title and say nothing."""
    if len(line) > 120:
        return None
    if _LANG_SWITCH.match(line):
        return "lang"
    parts = _crumbs(line)
    if len(parts) >= 2 and all(_is_crumb(p) for p in parts):
        return "crumbs"
    return None


def _is_crumb(part: str) -> bool:
    return 0 < len(part.split()) <= 4 and part[:1].isalpha() and not part.endswith(_SENTENCE_END)


def _crumbs(line: str) -> list[str]:
    """The segments of a breadcrumb trail; after "Trang chủ" a slash or bar separates too."""
    parts = _CRUMB_SEP.split(line)
    if len(parts) == 1 and _CRUMB_HOME.match(_CRUMB_HOME_SEP.split(line, maxsplit=1)[0]):
        parts = _CRUMB_HOME_SEP.split(line)
    return parts


def crumbs_category(line: str) -> str | None:
    """The section a breadcrumb trail ends in ("Trang chủ > Thời sự" -> "Thời sự")."""
    parts = [p for p in _crumbs(line) if p and not _CRUMB_HOME.match(p)]
    return parts[-1] if parts else None


def date_line(line: str) -> tuple[str, datetime | date] | None:
    """("published" or "updated", when) for a line that is only a date, else None.

    A label before the date ("Cập nhật:", "Đăng lúc", "Ngày đăng:") is read and
    dropped; "cập nhật" marks the time of the last change. Everything else, the
    weekday, "ngày", AM/PM, "(GMT+7)", is the date parser's business; a time
    without a zone is Vietnam time.
    """
    if len(line) > _MAX_DATE_LINE or not _DIGIT.search(line):
        return None
    label = _DATE_LABEL.match(line)
    rest = line[label.end() :] if label else line
    try:
        when = parse_datetime(rest)
    except ValueError:
        return None
    return ("updated" if label and label.group("updated") else "published"), when


def footer(line: str) -> str | None:
    """The kind of page footer a line is ("share", "comments", "related", "tags",
    "nav", "copyright"), or None for text.

    Only the marker itself counts, alone or followed by a separator and what it
    introduces: "Bình luận (3)", "Tags: a, b", "Chia sẻ Facebook Zalo". A sentence
    starting with the same words ("Bình luận về việc này, ông A…") is text. A
    language switch at the foot of the page is navigation too.
    """
    if len(line) > _MAX_FOOTER:
        return None
    if _LANG_SWITCH.match(line):
        return "nav"
    m = _FOOTER.match(line)
    return m.lastgroup if m else None


def footer_tags(line: str) -> list[str]:
    """The tags a "Tags: a, b" / "Từ khóa: a; b" line lists (none for a bare "Tags")."""
    m = _TAGS_VALUE.match(line)
    if not m:
        return []
    return [t.strip() for t in re.split(r"[,;|]", m.group(1)) if t.strip()]


def _is_name(text: str) -> bool:
    """A person's or newsroom's name: a few capitalised words, no digits, no sentence end.

    "Nguyễn Văn A", "Hoàng Lan - Minh Thư", "Lê Hà/VOV", "Trần Nam (TTXVN)".
    """
    if not text or len(text) > _MAX_BYLINE or text.endswith(_SENTENCE_END[:-1]) or any(c.isdigit() for c in text):
        return False
    words = [w for w in _PAREN.sub("", text).split() if w[:1].isalpha()]
    return 1 <= len(words) <= _MAX_NAME_WORDS and all(w[:1].isupper() for w in words)


def byline(line: str) -> str | None:
    """The author a byline names, or None.

    "Tác giả: X" / "Bài và ảnh: X" / "Nguồn: X" -> X; "Theo X" and "(Theo X)" -> X
    (X a capitalised name, or a source such as "báo Tuổi Trẻ"); a newsroom credit
    ("PV", "Nhóm phóng viên") as written; a bare capitalised name as written. Whether
    a name-like line really is the byline depends on where it stands, which is
    :func:`label_lines`' business.
    """
    if len(line) > _MAX_BYLINE + 20:
        return None
    m = _BYLINE_PREFIX.match(line)
    if m:
        who = m.group("who").strip().strip("()").strip()
        return None if "://" in who or who.lower().startswith("www.") else who or None
    m = _THEO.match(line)
    if m:
        who = m.group("who").strip()
        words = who.split()
        known = all(w[:1].isupper() or w.lower() in _SOURCE_WORDS for w in words)
        return who if known and any(w[:1].isupper() for w in words) else None
    if _NEWSROOM.match(line):
        return line.strip("()").strip()
    return line if _is_name(line) else None


def _credit(line: str) -> bool:
    """A byline that says so ("Theo …", "Nguồn: …", "PV"), as opposed to a bare name."""
    return bool(_BYLINE_PREFIX.match(line) or _THEO.match(line) or _NEWSROOM.match(line)) and byline(line) is not None


def caption(line: str) -> bool:
    """True for a photo caption among the paragraphs.

    Marked ones: "Ảnh: X", "… (Ảnh: X)", "… sông Hương. Ảnh: X", "Ảnh minh họa".
    Unmarked ones are told by their shape: a caption is a description of eight
    words or more that does not end like a sentence, where a paragraph does.
    """
    if _CAPTION_MARK.search(line):
        return True
    if len(line) >= _CAPTION_MAX or line.endswith(_SENTENCE_END):
        return False
    return len(line.split()) >= _CAPTION_MIN_WORDS


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the page, what it was read as ("chrome", "date", "title", "lead",
    "caption", "body", "byline" or "footer"), and what it says where that is more
    than its text: ("published" or "updated", when) for a date line, the author for
    a byline."""

    kind: str
    text: str
    value: Any = None


def _prepare(lines: list[str]) -> list[str]:
    """Cleaned, space-collapsed, non-empty lines (one clean() call for the whole page)."""
    out = (" ".join(x.split()) for x in clean("\n".join(lines)).split("\n"))
    return [x for x in out if x]


class _Labels:
    """The labelling of one page in progress: its lines, their kinds and values."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.kinds: list[str] = ["chrome"] * len(lines)
        self.values: list[Any] = [None] * len(lines)

    def set(self, i: int, kind: str, value: Any = None) -> None:
        self.kinds[i], self.values[i] = kind, value

    def head(self, start: int) -> int:
        """Label date lines, chrome (language switch, breadcrumbs) and a share bar from
        ``start``, above or below the title; the index of the first other line."""
        i = start
        while i < len(self.lines) and i - start < 6:
            line = self.lines[i]
            when = date_line(line)
            if when:
                self.set(i, "date", when)
            elif not (chrome(line) or footer(line) in ("share", "nav")):
                break
            i += 1
        return i

    def tail_byline(self, cut: int) -> None:
        """Label a byline that stands among the footers: the first line after the share
        and comment markers, followed by another marker or the end. Readers' comments
        (a name, then what they wrote) and related headlines are never taken for one."""
        lines, i = self.lines, cut
        while i < len(lines) and footer(lines[i]) in ("share", "comments", "nav"):
            i += 1
        if i == cut or i >= len(lines) or footer(lines[i]) or (i + 1 < len(lines) and not footer(lines[i + 1])):
            return
        who = byline(lines[i])
        if who:
            self.set(i, "byline", who)

    def result(self) -> list[Line]:
        return [Line(*row) for row in zip(self.kinds, self.lines, self.values, strict=True)]


def label_lines(lines: list[str], *, has_title: bool = False, has_sapo: bool = False) -> list[Line]:
    """Every non-empty line of a page, cleaned, with what it was read as.

    ``has_title``/``has_sapo``: the caller already knows them (from an HTML page's
    metadata), so no line is taken for them.
    """
    page = _Labels(_prepare(lines))
    lines = page.lines
    first = page.head(0)
    if not has_title and first < len(lines):
        page.set(first, "title")
        first = page.head(first + 1)
    # ``first``: the lead, or the first paragraph when the lead is known.

    cut = next((k for k in range(first + 1, len(lines)) if footer(lines[k])), len(lines))
    for k in range(cut, len(lines)):
        page.set(k, "footer")
    page.tail_byline(cut)

    end = cut
    who = byline(lines[end - 1]) if end - first >= 2 else None
    if who:
        page.set(end - 1, "byline", who)
        end -= 1
        # A name above an explicit credit: "Hoàng Lan" then "(Theo TTXVN)".
        if end - first >= 2 and _credit(lines[end]) and not _credit(lines[end - 1]) and _is_name(lines[end - 1]):
            page.set(end - 1, "byline", lines[end - 1])
            end -= 1
    # Only a marked caption stands in the lead's place: dumps write leads without a full stop.
    if not has_sapo and end - first >= 2 and not _CAPTION_MARK.search(lines[first]):
        page.set(first, "lead")
        first += 1
    for k in range(first, end):
        page.set(k, "caption" if end - first > 1 and caption(lines[k]) else "body")
    return page.result()


def classify_lines(lines: list[str], *, has_title: bool = False, has_sapo: bool = False) -> dict[str, Any]:
    """The article's fields from the lines of a page (see :func:`label_lines`).

    Returns what was found of title, sapo, body (paragraphs one per line), images
    (captions, no picture URL), author, published, updated, category and tags.
    A page that shows only a "Cập nhật" (updated) time gets it as published too:
    the archive sorts and filters by publication, and the page gives no better one.
    """
    fields: dict[str, Any] = {}
    body: list[str] = []
    captions: list[dict[str, str | None]] = []
    authors: list[str] = []
    tags: list[str] = []
    dates: dict[str, Any] = {}
    previous = ""
    for line in label_lines(lines, has_title=has_title, has_sapo=has_sapo):
        kind, text = line.kind, line.text
        if kind == "title":
            fields["title"] = text
        elif kind == "lead":
            fields["sapo"] = text
        elif kind == "body":
            body.append(text)
        elif kind == "caption" and previous == "caption" and _CREDIT_ONLY.match(text):
            captions[-1]["caption"] = f"{captions[-1]['caption']} ({text})"  # the photographer of the photo above
        elif kind == "caption":
            captions.append({"url": None, "caption": text})
        elif kind == "byline" and line.value not in authors:
            authors.append(line.value)
        elif kind == "date":
            dates.setdefault(*line.value)
        elif kind == "chrome" and chrome(text) == "crumbs":
            fields.setdefault("category", crumbs_category(text))
        elif kind == "footer" and footer(text) == "tags":
            tags.extend(t for t in footer_tags(text) if t not in tags)
        previous = kind
    if body:
        body[-1] = strip_inline_footer(body[-1])
    fields["body"] = "\n".join(x for x in body if x)
    if captions:
        fields["images"] = captions
    if authors:
        fields["author"] = ", ".join(authors)
    if "published" in dates or "updated" in dates:
        fields["published"] = dates.get("published", dates.get("updated"))
        if "published" in dates and "updated" in dates:
            fields["updated"] = dates["updated"]
    if tags:
        fields["tags"] = tags
    return fields


# Footer text glued to the last paragraph when a page lost its line breaks.
# The search starts only where blank space starts ((?<!\s)): from every position of a long
# blank run, \s* scanned the rest of it, 23 s for a line of 40,000 spaces.
_INLINE_FOOTER = re.compile(
    r"(?<!\s)\s*(?:©\s*\d{4}|Toàn bộ bản quyền thuộc|Bản quyền thuộc về|Đường dây nóng\s*:|"
    r"Bạn đã được chuyển sang trang|Ghi rõ nguồn .{0,30} khi phát hành lại).*$",
    re.S,
)


def strip_inline_footer(paragraph: str) -> str:
    """Cut copyright/hotline footer text that a scrape glued onto the last paragraph."""
    return _INLINE_FOOTER.sub("", paragraph)
