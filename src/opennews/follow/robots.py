"""robots.txt: what an outlet lets opennews fetch, parsed by protego and kept per host for a while.

protego follows RFC 9309 (longest match wins, ``Allow`` beats ``Disallow`` at equal
length, ``*`` and ``$`` patterns) and Google's reading of the rest, which is what
outlets test their files against. The rules are asked for the ``opennews`` token, so an
outlet can address us by name; a file without a group for us falls back to ``*``.

What the answer to ``GET /robots.txt`` means is RFC 9309's section 2.3.1: a 2xx is the
rules; a 4xx (no file, or a file behind a login) allows everything; a 5xx or no answer
means the site may be down and nothing of it is fetched for now (the fetcher's back-off
decides when to ask again). Only the first 500 KiB of a file are read, as Google does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
from protego import Protego

__all__ = [
    "AGENT",
    "MAX_CRAWL_DELAY",
    "MAX_ROBOTS_BYTES",
    "Robots",
    "RobotsCache",
    "ascii_host",
    "origin_of",
    "robots_url",
]

AGENT = "opennews"
MAX_ROBOTS_BYTES = 500 << 10
MAX_CRAWL_DELAY = 60.0  # a Crawl-delay above this is read as this: a minute between requests is polite enough


_DEFAULT_PORTS = {"http": 80, "https": 443}


def ascii_host(host: str) -> str:
    """A host name as it goes on the wire: lower case, no trailing dot, IDNA (UTS 46) for a name
    outside ASCII, as httpx sends it (``báo.vn`` → ``xn--bo-mia.vn``; a full-width ``。`` is a
    dot). One spelling per host, so that an outlet's links in Unicode and in punycode are one
    host to be polite to and one site the sources name. Label by label, so that an ASCII label
    IDNA would refuse (``a_b``) leaves the others encoded; a label it refuses stays as it is."""
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        host = idna.uts46_remap(host, std3_rules=False).rstrip(".")
    except (idna.IDNAError, UnicodeError):
        return host
    return ".".join(label if label.isascii() else _alabel(label) for label in host.split("."))


def _alabel(label: str) -> str:
    try:
        return idna.alabel(label).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return label


def origin_of(url: str) -> str:
    """``https://User@Example.vn.:443/a?b`` → ``https://example.vn``: robots.txt is per scheme, host
    and port, and so is politeness. The host is keyed however a URL spells it (case, a trailing
    dot, the default port written out, a user name), so that a redirect or a child sitemap spelt
    another way neither skips the delay nor asks for robots.txt again. Raises ValueError for a
    port that is not one (the fetcher refuses those before asking this)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = ascii_host(parts.hostname or "")
    host = f"[{host}]" if ":" in host else host
    port = parts.port
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{scheme}://{host}:{port}"


def robots_url(url: str) -> str:
    return origin_of(url) + "/robots.txt"


@dataclass(frozen=True)
class Robots:
    """The rules of one host; ``parser`` None allows everything (no robots.txt, or a 4xx)."""

    parser: Protego | None
    fetched_at: float

    @classmethod
    def parse(cls, text: str, fetched_at: float) -> Robots:
        return cls(Protego.parse(text), fetched_at)

    @classmethod
    def allow_all(cls, fetched_at: float) -> Robots:
        return cls(None, fetched_at)

    def allows(self, url: str) -> bool:
        return self.parser is None or self.parser.can_fetch(url, AGENT)

    @property
    def crawl_delay(self) -> float | None:
        """The file's Crawl-delay for us, capped at :data:`MAX_CRAWL_DELAY`; None when it sets none."""
        delay = None if self.parser is None else self.parser.crawl_delay(AGENT)
        return None if delay is None else min(float(delay), MAX_CRAWL_DELAY)


class RobotsCache:
    """Rules per origin, kept ``ttl`` seconds (by ``clock``). Thread-safe."""

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl, self._clock = ttl, clock
        self._rules: dict[str, Robots] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> Robots | None:
        """The rules for ``url``'s host, unless none are kept or they are older than ``ttl``."""
        with self._lock:
            rules = self._rules.get(origin_of(url))
        if rules is None or self._clock() - rules.fetched_at >= self.ttl:
            return None
        return rules

    def put(self, url: str, rules: Robots) -> None:
        with self._lock:
            self._rules[origin_of(url)] = rules
