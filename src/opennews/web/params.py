"""Reading what a request asks for, strictly: one place decides what is a 400 (or a 422).

Starlette decodes query strings leniently (bad UTF-8 becomes U+FFFD), which would
search for replacement characters instead of telling the client its URL is broken;
here the raw bytes are decoded strictly and every limit is checked before anything
reaches the searcher. Error messages are marked for translation and shown in the
reader's language on pages, in English in the API.

Two readings of the same parameters. Pages and feeds read them as a form sends them:
an empty field is a field left blank, dates may be written DD/MM/YYYY or in words.
The API (``strict``) reads exactly what its OpenAPI document promises, no more: an
empty ``page=`` or ``to=`` is a mistake the client should hear about, and dates are
RFC 3339 full-dates, so the document and the parser agree on every value
(tests/test_api_contract.py runs schemathesis to hold them to it).

A value that is well formed but cannot go with another (a start date after the end
date) is a 422, not a 400: no schema can say that, and a client can tell the two apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, cast
from urllib.parse import quote_plus, unquote_to_bytes

from ..feeds.names import MAX_NAME  # source, category, a feed's author: as long as the archive allows
from ..search import SearchRequest
from ..vietnamese import parse_datetime
from .i18n import N_

__all__ = [
    "CONTROL",
    "MAX_NAME",
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "MAX_QUERY",
    "MAX_QUERY_STRING",
    "BadRequest",
    "Query",
    "SearchParams",
    "Unprocessable",
    "bounded",
    "parse_search",
]

MAX_QUERY = 500  # characters of q
#: Bytes of the whole raw query string: the longest a valid request can make, every character of q,
#: source and category being 4 UTF-8 bytes percent-encoded (12), plus room for the short parameters.
#: (A valid q of 500 Vietnamese characters alone takes up to 9 bytes each percent-encoded: 4,500.)
MAX_QUERY_STRING = 12 * (MAX_QUERY + 2 * MAX_NAME) + 1024
MAX_PER_PAGE = 100
MAX_PAGE = 100  # deeper pages cost the searcher page × per_page candidates
PER_PAGE = 10
SORTS = ("relevance", "newest", "oldest")
_ID = re.compile(r"^[\w.:-]{1,128}$")
_FULL_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: What no text parameter may hold: the C0 controls but tab, line feed and carriage return, and
#: U+FFFE and U+FFFF. XML cannot carry them (a feed of such a search failed to build), no search
#: needs them, and the OpenAPI document says so with the same set (openapi.TEXT).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class BadRequest(Exception):
    """A request that cannot be answered as asked: a 400 with a message readers understand."""

    status = 400

    def __init__(self, message: str, **values: Any) -> None:
        super().__init__(message % values if values else message)
        self.message = message
        self.values = values


class Unprocessable(BadRequest):
    """Parameters each valid on its own that cannot go together: a 422."""

    status = 422


class Query:
    """The query string decoded strictly: last value wins, NUL and bad UTF-8 refused."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) > MAX_QUERY_STRING:
            raise BadRequest(N_("The address is too long (more than %(limit)s bytes)."), limit=MAX_QUERY_STRING)
        self.values: dict[str, str] = {}
        for part in raw.split(b"&"):
            if not part:
                continue
            name, _, value = part.partition(b"=")
            self.values[_decode(name)] = _decode(value)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


def _decode(raw: bytes) -> str:
    try:
        text = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(N_("The address contains bytes that are not valid UTF-8 text.")) from None
    if CONTROL.search(text):
        raise BadRequest(N_("The address contains a control character."))
    return text


@dataclass(frozen=True)
class SearchParams:
    """A validated search: what the searcher gets and what links to other pages keep."""

    q: str = ""
    source: str = ""
    category: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = PER_PAGE
    #: Search exactly ``q``, never its Telex or accent reading (the link back from a reading).
    exact: bool = False

    @property
    def filtered(self) -> bool:
        return bool(self.source or self.category or self.date_from or self.date_to)

    def request(self, *, facets: bool = True, snippets: bool = True, suggest: bool = True) -> SearchRequest:
        return SearchRequest(
            q=self.q,
            source=self.source or None,
            category=self.category or None,
            date_from=self.date_from,
            date_to=self.date_to,
            sort=cast(Any, self.sort),
            page=self.page,
            per_page=self.per_page,
            facets=facets,
            snippets=snippets,
            suggest=suggest,
            exact=self.exact,
        )

    def pairs(self, **changes: Any) -> dict[str, str]:
        """The parameters as they appear in a URL (defaults left out), with ``changes`` applied."""
        values: dict[str, Any] = {
            "q": self.q,
            "source": self.source,
            "category": self.category,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "sort": "" if self.sort == "relevance" else self.sort,
            "page": "" if self.page == 1 else str(self.page),
            "limit": "" if self.per_page == PER_PAGE else str(self.per_page),
            "exact": "1" if self.exact else "",
        }
        for name, value in changes.items():
            values[name.rstrip("_")] = value
        if str(values["page"]) == "1":
            values["page"] = ""
        if values["sort"] == "relevance":
            values["sort"] = ""
        values["exact"] = "1" if values["exact"] in (True, "1") else ""
        return {k: str(v) for k, v in values.items() if v not in ("", None)}

    def query_string(self, **changes: Any) -> str:
        """What ``urlencode(self.pairs(**changes))`` gives; a results page builds some fifty of
        these links (one per facet value), mostly from the same few values."""
        return "&".join(f"{name}={_quote(value)}" for name, value in self.pairs(**changes).items())

    def filter_links(self, name: str, values: Iterable[str]) -> list[str]:
        """``query_string(name=value, page="")`` for each of ``values`` (the links of a facet list),
        encoding the rest of the query once: "year" stands for its from/to dates.

        Placeholders mark where each value goes; they are control characters, which no
        validated parameter holds.
        """
        if name == "year":
            template = self.query_string(from_="\x00", to="\x01", page="")
            return [template.replace("%00", f"{v}-01-01").replace("%01", f"{v}-12-31") for v in values]
        head, _, tail = self.query_string(**{name: "\x00", "page": ""}).partition("%00")
        return [head + _quote(v) + tail for v in values]


@lru_cache(maxsize=4096)
def _quote(value: str) -> str:
    return quote_plus(value)


def _given(query: Query, name: str, *, strict: bool) -> str | None:
    """A typed parameter's text, or None when it is absent (or, on a form, left blank)."""
    if name not in query.values:
        return None
    text = query.values[name]
    if not strict:
        return text.strip() or None
    if not text:
        raise BadRequest(N_("%(name)s is empty: leave it out or give a value."), name=name)
    return text


def bounded(text: str, name: str, low: int, high: int) -> int:
    """``text`` as a whole number from ``low`` to ``high``. ASCII digits only (``str.isdigit``
    also takes "²", which ``int`` refuses), as many as the client likes: leading zeros still
    spell the same number, and a long one is out of range without being parsed (``int`` of
    5,000 digits raises)."""
    if not (text.isascii() and text.isdigit()):
        raise BadRequest(N_("%(name)s must be a whole number."), name=name)
    digits = text.lstrip("0") or "0"
    value = int(digits) if len(digits) <= len(str(high)) else high + 1
    if not low <= value <= high:
        raise BadRequest(N_("%(name)s must be between %(low)s and %(high)s."), name=name, low=low, high=high)
    return value


def _int(query: Query, name: str, default: int, low: int, high: int, *, strict: bool) -> int:
    text = _given(query, name, strict=strict)
    return default if text is None else bounded(text, name, low, high)


def _flag(query: Query, name: str, *, strict: bool) -> bool:
    """A yes/no parameter: ``1`` or ``0`` (what a link writes; the OpenAPI document's enum)."""
    text = _given(query, name, strict=strict)
    if text is None:
        return False
    if text not in ("0", "1"):
        raise BadRequest(N_("%(name)s must be 0 or 1."), name=name)
    return text == "1"


def _date(query: Query, name: str, *, strict: bool) -> date | None:
    text = _given(query, name, strict=strict)
    if text is None:
        return None
    try:
        if strict:  # an RFC 3339 full-date (the OpenAPI document's format: date), years 0001 to 9999
            if not _FULL_DATE.match(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        value = parse_datetime(text[:40])
    except (ValueError, OverflowError):
        message = (
            N_("%(name)s is not a date: use YYYY-MM-DD.")
            if strict
            else N_("%(name)s is not a date: use YYYY-MM-DD or DD/MM/YYYY.")
        )
        raise BadRequest(message, name=name) from None
    return value.date() if isinstance(value, datetime) else value


def _text(query: Query, name: str, limit: int) -> str:
    text = query.get(name)
    if len(text) > limit:
        raise BadRequest(N_("%(name)s is too long (more than %(limit)s characters)."), name=name, limit=limit)
    return text.strip()


def parse_search(query: Query, *, strict: bool = False) -> SearchParams:
    """Validate the search parameters shared by the search page, the feeds and ``/api/search``;
    ``strict`` for the API (see the module's docstring)."""
    q = _text(query, "q", MAX_QUERY)
    sort = _given(query, "sort", strict=strict) or "relevance"
    if sort not in SORTS:
        raise BadRequest(N_("sort must be one of: relevance, newest, oldest."))
    per_page_name = "limit" if "limit" in query.values else "per_page"
    date_from, date_to = _date(query, "from", strict=strict), _date(query, "to", strict=strict)
    params = SearchParams(
        q=q,
        source=_text(query, "source", MAX_NAME),
        category=_text(query, "category", MAX_NAME),
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        page=_int(query, "page", 1, 1, MAX_PAGE, strict=strict),
        per_page=_int(query, per_page_name, PER_PAGE, 1, MAX_PER_PAGE, strict=strict),
        exact=_flag(query, "exact", strict=strict),
    )
    if date_from and date_to and date_from > date_to:
        raise Unprocessable(N_("The start date is after the end date."))
    return params


def article_id(value: str) -> str | None:
    """A plausible article id, or None (answered with 404 without touching the archive)."""
    return value if _ID.match(value) else None
