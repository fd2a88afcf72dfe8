"""The benchmarks' load generators count what a server answers: wrk (through its Lua script)
and the httpx loop agree on requests and statuses against a small local server."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import loadgen
from tools import require


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the benchmarks use

    def do_GET(self) -> None:
        status = 200 if self.path.startswith("/ok") else 404
        if "gzip" not in self.headers.get("Accept-Encoding", ""):
            status = 406  # the benchmarks ask for gzip, as browsers do
        body = self.path.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # load generators drop their connections when the time is up


@pytest.fixture()
def base() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _urls(base: str) -> list[str]:
    # One path in four is missing; queries with spaces and marks as the search benchmark sends them.
    return [f"{base}/ok?q=h%C3%A0+n%E1%BB%99i", f"{base}/ok?q=a", f"{base}/missing", f"{base}/ok"]


def test_wrk_cycles_through_the_paths_and_counts_statuses(base: str) -> None:
    require("wrk", "wrk is not installed")
    result = loadgen.wrk_load(_urls(base), connections=2, duration=1, warmup=0, headers={"Accept-Encoding": "gzip"})
    statuses = result["statuses"]
    assert set(statuses) == {200, 404}
    assert sum(statuses.values()) == result["requests"] > 20
    # Cycling through four paths: each was asked about as often, so a quarter missing.
    assert abs(statuses[404] / result["requests"] - 0.25) < 0.05
    assert result["errors"] == statuses[404]
    assert 0 < result["p50"] <= result["p95"] <= result["p99"]


def test_httpx_loop_cycles_through_the_paths_and_counts_statuses(base: str) -> None:
    samples = asyncio.run(loadgen.hammer(_urls(base), connections=2, duration=1, warmup=0))
    statuses = [status for status, _ in samples]
    assert len(statuses) > 20 and set(statuses) == {200, 404}
    assert abs(statuses.count(404) / len(statuses) - 0.25) < 0.05
