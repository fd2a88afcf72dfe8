"""A small real HTTP site on 127.0.0.1 and a minimal fetcher for the follow tests.

The site serves whatever a test puts in ``pages`` (path → status, type, body), answers
``If-None-Match`` with 304, and records every request. The fetcher is the polite one
(opennews.follow.fetch) without its delay between requests.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from opennews.follow.fetch import Fetcher, FetchPolicy, user_agent


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
        """The paths asked for, but robots.txt: the fetcher reads it first on every host
        (tests/test_fetch.py is about it)."""
        return [path for path, _ in self.requests if path != "/robots.txt"]


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


class QuickFetcher(Fetcher):
    """The polite fetcher (robots.txt, caps, refusals) without its delay between requests,
    noting every URL it really requested (``asked``) at the transport, below its checks."""

    def __init__(self, allowed: Callable[[str], bool]) -> None:
        self.asked: list[str] = []
        policy = FetchPolicy(user_agent=user_agent(None), min_delay=0.0, timeout=5.0)
        super().__init__(policy, allowed, transport=_Noting(self.asked))


class _Noting(httpx.HTTPTransport):
    def __init__(self, asked: list[str]) -> None:
        super().__init__()
        self.asked = asked

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(str(request.url))
        return super().handle_request(request)
