"""Polite fetching from outlets: one request at a time per host, a pause between them,
robots.txt, back-off, bounded redirects, sizes and times.

An outlet's servers are shared with its readers, and an archive that hammers them gets
blocked, so every request to a host waits for the one before it and then for
``min_delay`` more (or the host's robots.txt ``Crawl-delay``, up to a minute). A host
that answers 429 or 5xx, or does not answer, is left alone for a back-off that doubles
with each failure in a row (with jitter, so that many followers do not come back at the
same second), up to a cap; a longer ``Retry-After`` wins. During a back-off :meth:`Fetcher.get`
raises at once instead of sleeping, so a follow loop goes on with other hosts.

Nothing is requested from a URL the caller's ``allowed`` refuses (the sources name the
hosts) or that robots.txt disallows, including redirect targets, which are followed here
hop by hop for that reason. Bodies are read within their size and time bounds by
:mod:`opennews.follow.body` (a gzip bomb costs ``max_bytes`` of memory and is a :class:`FetchError`).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import quote, urldefrag, urljoin, urlsplit

import httpx

from .. import __version__
from ..settings import FetchSettings
from .body import BodyError, drain, read_body
from .robots import MAX_ROBOTS_BYTES, Robots, RobotsCache, origin_of, robots_url

__all__ = ["FetchError", "FetchPolicy", "Fetched", "Fetcher", "parse_retry_after", "user_agent"]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PRINTABLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))
MAX_RETRY_AFTER = 86400.0  # a Retry-After longer than a day is read as a day


def user_agent(contact: str | None) -> str:
    """``opennews/0.1.0 (+https://example.vn/lien-he)``: the software and whom to tell when it misbehaves.

    A contact written with accents (``https://báo.vn/liên-hệ``) is percent-encoded: header values
    are ASCII on the wire, and httpx refuses to send any request with one that is not."""
    if not contact:
        return f"opennews/{__version__}"
    return f"opennews/{__version__} (+{quote(contact, safe=_PRINTABLE_ASCII)})"


@dataclass(frozen=True)
class FetchPolicy:
    user_agent: str  # "opennews/<version> (+<contact URL>)"; contact from OPENNEWS_CONTACT
    min_delay: float = 2.0  # seconds between two requests to one host (OPENNEWS_FETCH_DELAY)
    timeout: float = 20.0  # connect/read timeout per request; a whole response gets 3 times this
    max_bytes: int = 8 << 20  # decoded body cap (gzip counted after decoding, checked as it streams)
    max_redirects: int = 5
    robots_ttl: float = 86400.0
    backoff_base: float = 30.0  # the first back-off after a 429/5xx/no answer; doubles with each in a row
    backoff_cap: float = 3600.0  # the longest back-off of our own (a longer Retry-After is honoured up to a day)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        contact: str | None = None,
        min_delay: float | None = None,
        **given: float,
    ) -> FetchPolicy:
        """The policy from flags given (None: not given), else ``OPENNEWS_CONTACT`` and
        ``OPENNEWS_FETCH_DELAY``, else the defaults; ``given`` sets the other fields."""
        chosen = FetchSettings.from_env(environ, contact=contact, delay=min_delay)
        return cls(user_agent=user_agent(chosen.contact), min_delay=chosen.delay, **given)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Fetched:
    url: str  # final URL after redirects
    status: int  # 200, or 304 when not_modified
    body: bytes  # b"" when not modified
    content_type: str
    etag: str | None
    last_modified: str | None
    not_modified: bool


class FetchError(Exception):
    """Why a URL could not be had, in one line for the operator (``str()`` is ``reason``).

    ``gone``: 404 or 410, to flag, never to withdraw by itself. ``transient``: 429, 5xx,
    time-outs, connection errors and robots.txt unreadable: try again after ``retry_after``
    seconds (the host's back-off, at least what its Retry-After asked) when given.
    """

    def __init__(
        self,
        reason: str,
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        gone: bool = False,
        transient: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason, self.url, self.status = reason, url, status
        self.retry_after, self.gone, self.transient = retry_after, gone, transient

    def __str__(self) -> str:
        return self.reason


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After's seconds (``120``) or HTTP date (``Wed, 02 Dec 2026 07:00:00 GMT``) → seconds from
    now (0 for a date past); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class _Host:
    """What the fetcher remembers of one host (scheme, name and port)."""

    delay: float
    lock: threading.Lock = field(default_factory=threading.Lock)  # one request at a time
    robots_lock: threading.Lock = field(default_factory=threading.Lock)  # one robots.txt fetch at a time
    last: float = float("-inf")  # clock() when its last request ended
    until: float = float("-inf")  # clock() when its back-off ends
    failures: int = 0  # 429/5xx/no answer in a row


@dataclass(frozen=True)
class _Answer:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes


class Fetcher:
    """GETs for the follower: synchronous, one ``httpx.Client`` (keep-alive), safe to share between threads."""

    def __init__(
        self,
        policy: FetchPolicy,
        allowed: Callable[[str], bool],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy, self._allowed, self._clock, self._sleep = policy, allowed, clock, sleep
        self._client = httpx.Client(
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip"},
            timeout=httpx.Timeout(policy.timeout),
            follow_redirects=False,
            transport=transport,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=15.0),
        )
        self._robots = RobotsCache(policy.robots_ttl, clock)
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        self._random = random.Random()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def backing_off(self, url: str) -> float:
        """Seconds until ``url``'s host may be asked again (0 when it may be now)."""
        host = self._host(url)
        return max(0.0, host.until - self._clock())

    # -- the one public request

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """``url``'s body (after redirects), or 304's ``not_modified`` when the validators still match.
        Raises :class:`FetchError` for anything else, with ``url`` set to the URL asked for."""
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        try:
            return self._get(url, conditional)
        except FetchError as exc:
            exc.url = exc.url or url
            raise
        except ValueError as exc:  # urllib on a URL or a redirect's Location that does not parse ("http://[::1")
            raise FetchError(f"not a valid URL: {exc}", url=url) from None

    def _get(self, url: str, conditional: dict[str, str]) -> Fetched:
        current, seen = urldefrag(url).url, set[str]()
        for hop in range(self.policy.max_redirects + 1):
            self._check(current, redirected=hop > 0)
            answer = self._polite(current, conditional, self.policy.max_bytes)
            status = answer.status
            if status in REDIRECTS and (location := answer.headers.get("location")):
                seen.add(current)
                current = urldefrag(urljoin(current, location.strip())).url
                if current in seen:
                    raise FetchError(f"redirect loop ({status} back to {current})", status=status)
                continue
            if 200 <= status < 300:
                headers = answer.headers
                return Fetched(
                    current,
                    status,
                    answer.body,
                    headers.get("content-type", ""),
                    headers.get("etag"),
                    headers.get("last-modified"),
                    False,
                )
            if status == 304 and conditional:
                headers = answer.headers
                return Fetched(
                    current,
                    304,
                    b"",
                    "",
                    headers.get("etag") or conditional.get("If-None-Match"),
                    headers.get("last-modified") or conditional.get("If-Modified-Since"),
                    True,
                )
            raise FetchError(f"HTTP {status}", status=status, gone=status in (404, 410))
        raise FetchError(f"too many redirects (more than {self.policy.max_redirects})")

    def _check(self, url: str, *, redirected: bool) -> None:
        """Refuse, before any request, what no source names and what robots.txt disallows.

        A URL with a user name or password is refused too: an outlet's links have none, and
        one in a redirect would send credentials nobody gave us (or spell a host otherwise)."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not an http(s) URL: {url}")
        if parts.username is not None or parts.password is not None:
            raise FetchError("a URL with a user name or password is not fetched")
        try:
            parts.port  # noqa: B018 - urllib checks the port only when asked for it
        except ValueError as exc:
            raise FetchError(f"not a valid URL: {exc}") from None
        if not self._allowed(url):
            raise FetchError("redirect to a host no source names" if redirected else "a host no source names")
        if not self._robots_for(url).allows(url):
            raise FetchError("disallowed by robots.txt")

    # -- robots.txt

    def _robots_for(self, url: str) -> Robots:
        host = self._host(url)
        with host.robots_lock:
            rules = self._robots.get(url)
            if rules is None:
                self._refuse_during_back_off(host, url)  # said as such, not as robots.txt unreadable
                rules = self._fetch_robots(url)
                self._robots.put(url, rules)
                host.delay = max(self.policy.min_delay, rules.crawl_delay or 0.0)
        return rules

    def _fetch_robots(self, url: str) -> Robots:
        """RFC 9309 2.3.1: 2xx rules; 4xx or redirects that lead nowhere allow all; 5xx or no answer: not now."""
        target = robots_url(url)
        for _ in range(self.policy.max_redirects + 1):
            try:
                answer = self._polite(target, {}, MAX_ROBOTS_BYTES, truncate=True)
            except FetchError as exc:
                if not exc.transient:
                    raise
                raise FetchError(
                    f"robots.txt not readable ({exc.reason}); the host is left alone for now",
                    status=exc.status,
                    retry_after=exc.retry_after,
                    transient=True,
                ) from None
            if 200 <= answer.status < 300:
                return Robots.parse(answer.body.decode("utf-8", "replace"), self._clock())
            location = answer.headers.get("location")
            if answer.status not in REDIRECTS or not location:
                return Robots.allow_all(self._clock())
            target = urldefrag(urljoin(target, location.strip())).url
            if urlsplit(target).scheme not in ("http", "https") or not self._allowed(target):
                return Robots.allow_all(self._clock())
        return Robots.allow_all(self._clock())

    # -- politeness

    def _host(self, url: str) -> _Host:
        key = origin_of(url)
        with self._hosts_lock:
            host = self._hosts.get(key)
            if host is None:
                host = self._hosts[key] = _Host(self.policy.min_delay)
            return host

    def _polite(self, url: str, headers: dict[str, str], cap: int, *, truncate: bool = False) -> _Answer:
        """One request, after the host's previous one and its delay; 429/5xx/no answer start a back-off."""
        host = self._host(url)
        with host.lock:
            now = self._clock()
            self._refuse_during_back_off(host, url)
            if (wait := host.last + host.delay - now) > 0:
                self._sleep(wait)
            try:
                answer = self._send(url, headers, cap, truncate)
            except FetchError as exc:
                if exc.transient:
                    exc.retry_after = self._back_off(host, exc.retry_after)
                raise
            finally:
                host.last = self._clock()
            status = answer.status
            if status == 429 or status >= 500:
                asked = parse_retry_after(answer.headers.get("retry-after"))
                waited = self._back_off(host, asked)
                said = f" (Retry-After {asked:.0f} s)" if asked is not None else ""
                raise FetchError(f"HTTP {status}{said}", status=status, retry_after=waited, transient=True)
            host.failures = 0
            return answer

    def _refuse_during_back_off(self, host: _Host, url: str) -> None:
        if (left := host.until - self._clock()) > 0:
            name = urlsplit(url).netloc
            raise FetchError(f"{name} is backed off for {left:.0f} s more", retry_after=left, transient=True)

    def _back_off(self, host: _Host, asked: float | None) -> float:
        """Exponential back-off with equal jitter (half fixed, half random), capped; a longer Retry-After wins."""
        host.failures += 1
        step = min(self.policy.backoff_cap, self.policy.backoff_base * 2.0 ** (host.failures - 1))
        wait = step / 2 + self._random.uniform(0, step / 2)
        if asked is not None:
            wait = max(wait, min(asked, MAX_RETRY_AFTER))
        host.until = self._clock() + wait
        return wait

    # -- the wire

    def _send(self, url: str, headers: dict[str, str], cap: int, truncate: bool) -> _Answer:
        timeout = self.policy.timeout
        try:
            # A validator is sent back as it came: httpx read a non-ASCII one as UTF-8, and would refuse
            # to send it as a str (UnicodeEncodeError), leaving the source failing at every poll.
            sent = {name: value if value.isascii() else value.encode() for name, value in headers.items()}
            with self._client.stream("GET", url, headers=sent) as response:
                body = b""
                if 200 <= response.status_code < 300:
                    body = read_body(response, cap, truncate=truncate, seconds=3 * timeout)
                else:
                    drain(response, timeout)
                return _Answer(url, response.status_code, response.headers, body)
        except BodyError as exc:
            raise FetchError(exc.reason, transient=exc.transient) from None
        except httpx.TimeoutException:
            raise FetchError(f"timed out after {timeout:g} s", transient=True) from None
        except httpx.TransportError as exc:
            raise FetchError(f"no answer: {exc or type(exc).__name__}", transient=True) from None
        except httpx.InvalidURL as exc:
            raise FetchError(f"not a valid URL: {exc}") from None
