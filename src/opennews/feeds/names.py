"""How a source, category or author name is written in a feed URL and in a static file name.

``/feeds/category/{segment}.rss`` must reach the feed of every name the archive holds,
through every server in the way, and ``feeds/category/{segment}.rss`` must be that
feed's file, so a static server that decodes the URL finds it. Names are free text:
54 categories of the shared corpus hold a "/" ("Thế giới / Châu Mỹ"), one ends in "?".

Percent-encoding the name alone does not do it: servers decode ``%2F`` before routing
(uvicorn, so Starlette's ``{name}`` never matched; nginx, which then looks in a
sub-folder), some proxies refuse it, and a name like ".." is a dot segment that clients
remove (``%2E%2E`` too, by the WHATWG URL rules). So :func:`segment` first escapes the
characters no path segment or file name can carry as ``~XX`` (the UTF-8 bytes in
upper-case hex; ``~`` is unreserved, so nothing on the way decodes or re-encodes it),
then the URL percent-encodes the segment, and servers decode it back to the segment.
A name without such characters is its own segment, so its URL and file name read as
the name ("vnexpress.net", "Thế giới").

Escaped: the escape itself, ``/`` and ``\\``, what Windows forbids in file names
(``<>:"|?*``, and the first letter of a name it reserves for a device: CON, PRN, AUX,
NUL, COM0-9, LPT0-9, CONIN$ and CONOUT$ in any case, alone or before a dot or spaces,
as in ``con.rss``), what some servers treat specially in a path (``%``, ``#``, ``;``, ``+``:
S3 reads it as a space), a leading ``.`` (hidden files, dot segments), every character
that is not printable (controls, bidi controls, other format characters, odd spaces,
unassigned code points), and every combining mark, character that NFC changes and
conjoining Hangul jamo. The last three keep the segment in NFC and make two segments
that differ stay different on file systems that compare names after normalising them
(macOS): "Thế" in NFC and in NFD are two names with two files. A slug with a hash was
the other choice; it would have changed the URL of every name with a mark in it, and
needed the catalog to read a URL back.

:func:`name` reads any segment back: escapes it did not write (a "~" before two
characters that are not hex, or bytes that are not UTF-8) are kept as typed, so a name
holding a "~" of its own, in a link typed by hand or made by another tool, is still reached.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from ..article import MAX_SHORT

__all__ = ["MAX_NAME", "MAX_STEM_BYTES", "name", "segment", "url_segment"]

#: The longest name a feed URL accepts, in characters: the archive's own limit for a
#: source, category or author, so every name it holds has a feed.
MAX_NAME = MAX_SHORT
#: Longer segments get no static file (they would not fit in a 255-byte file name with
#: ``.json.gz`` and the temporary name of an atomic write); the app serves them.
MAX_STEM_BYTES = 200

_ALWAYS = frozenset('~/\\<>:"|?*%#;+')
_HANGUL_JAMO = ((0x1100, 0x11FF), (0xA960, 0xA97F), (0xD7B0, 0xD7FF))
_ESCAPE = re.compile(r"(?:~[0-9A-Fa-f]{2})+")
#: A stem (what comes before the first dot) that Windows opens as a device, whatever the extension.
_DEVICE = re.compile(r"(?:CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]|CONIN\$|CONOUT\$) *", re.IGNORECASE)


def _escaped(ch: str) -> bool:
    if ch in _ALWAYS or not ch.isprintable():
        return True
    if ch.isascii():
        return False
    if unicodedata.category(ch).startswith("M") or unicodedata.normalize("NFC", ch) != ch:
        return True
    return any(low <= ord(ch) <= high for low, high in _HANGUL_JAMO)


def _escape(ch: str) -> str:
    return "".join(f"~{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))


def segment(value: str) -> str:
    """The path segment (and file stem) of a name; ``name(segment(x)) == x`` for any text."""
    if not value:
        raise ValueError("a feed name cannot be empty")
    out = [_escape(ch) if _escaped(ch) else ch for ch in value]
    if out[0] == "." or _DEVICE.fullmatch(value.partition(".")[0]):
        out[0] = _escape(value[0])
    return "".join(out)


def url_segment(value: str) -> str:
    """The segment as it is written in a URL: ASCII, percent-encoded, no ``/``."""
    return quote(segment(value), safe="")


def _unescape(match: re.Match[str]) -> str:
    text = match.group()
    try:
        return bytes.fromhex(text.replace("~", "")).decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return text


def name(value: str) -> str | None:
    """The name a (URL-decoded) segment stands for, or None if it names nothing we serve
    (empty, or longer than :data:`MAX_NAME`)."""
    result = _ESCAPE.sub(_unescape, value) if "~" in value else value
    return result if 0 < len(result) <= MAX_NAME else None
