"""A small real HTTP site on 127.0.0.1 and a minimal fetcher for the follow tests.

The site serves whatever a test puts in ``pages`` (path → status, type, body), answers
``If-None-Match`` with 304, and records every request. The fetcher speaks the interface
following expects of the polite fetcher (``get(url, etag=, last_modified=) -> Fetched``,
raising ``FetchError``) with plain httpx, and refuses what ``allowed`` refuses.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from opennews.follow.fetch import Fetched, FetchError


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200


@dataclass
class Site:
    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    base_url: str = ""

    def put(
        self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8", status: int = 200
    ) -> str:
        self.pages[path] = Page(body.encode() if isinstance(body, str) else body, content_type, status)
        return self.base_url + path

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


def serve() -> tuple[Site, ThreadingHTTPServer]:
    site = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append((self.path, dict(self.headers.items())))
            page = site.pages.get(self.path)
            if page is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
            if page.status == 200 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(page.body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(page.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return site, server


class PlainFetcher:
    """Fetched/FetchError over httpx, refusing URLs ``allowed`` refuses; no politeness."""

    def __init__(self, allowed: Callable[[str], bool]) -> None:
        self.allowed = allowed
        self.client = httpx.Client(timeout=5, follow_redirects=False)
        self.asked: list[str] = []

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        if not self.allowed(url):
            raise FetchError("a host no source names")
        self.asked.append(url)
        headers = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
        try:
            r = self.client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise FetchError(f"connection failed: {exc}", transient=True) from None
        if r.status_code == 304:
            return Fetched(str(r.url), 304, b"", "", r.headers.get("etag"), r.headers.get("last-modified"), True)
        if r.status_code != 200:
            raise FetchError(
                f"HTTP {r.status_code}",
                status=r.status_code,
                gone=r.status_code in (404, 410),
                transient=r.status_code == 429 or r.status_code >= 500,
            )
        return Fetched(
            str(r.url),
            200,
            r.content,
            r.headers.get("content-type", ""),
            r.headers.get("etag"),
            r.headers.get("last-modified"),
            False,
        )

    def close(self) -> None:
        self.client.close()
