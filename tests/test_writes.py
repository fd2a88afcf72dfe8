"""The write API: tokens, scopes, limits, the ingest path, withdrawals, the audit log; and an
article pushed to a real ``opennews serve`` is found by its search within seconds."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from opennews.archive import Archive
from opennews.settings import Settings, WriteLimits
from opennews.tokens import audit_log, create_token, hash_token, list_tokens, revoke_token
from opennews.web import create_app
from opennews.web.writes import RateLimiter
from webhome import WebHome, serving

CAP = 64 * 1024
JSON = "application/json"


def record(n: int, **more: Any) -> dict[str, Any]:
    return {
        "url": f"https://tin.example/bai-{n}.html",
        "source": "tin.example",
        "category": "Thời sự",
        "title": f"Bản tin số {n} về mùa nước nổi ở miền Tây",
        "body": f"Đoạn một của bản tin số {n}.\n\nĐoạn hai nói về mùa nước nổi.",
        "published": f"2024-09-0{1 + n % 9}T08:00:00+07:00",
        **more,
    }


def ndjson(*records: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


class Home:
    def __init__(self, path: Path) -> None:
        self.path = path
        with self.archive() as archive:
            self.ingest = create_token(archive, "scraper", "ingest")
            self.withdraw = create_token(archive, "legal", "withdraw")
            self.revoked = create_token(archive, "old", "ingest")
            revoke_token(archive, "old")

    def archive(self) -> Archive:
        return Archive.open(self.path / "opennews.sqlite3")

    def audit(self) -> list[dict[str, Any]]:
        with self.archive() as archive:
            return [e.to_dict() for e in audit_log(archive, 100)]


@pytest.fixture
def wh(home: Path) -> Home:
    return Home(home)


@pytest.fixture
def client(wh: Home, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("OPENNEWS_MAX_WRITE_BYTES", str(CAP))
    monkeypatch.setenv("OPENNEWS_WRITE_RATE", "600")
    with TestClient(create_app(Settings(wh.path), follow=False)) as c:
        yield c


def bearer(token: str, content_type: str = "application/x-ndjson") -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "content-type": content_type}


# -- who may write ------------------------------------------------------------------------------


def test_without_a_token_the_answer_is_401_with_the_bearer_challenge(client: TestClient, wh: Home) -> None:
    r = client.post("/api/articles", content=ndjson(record(1)), headers={"content-type": "application/x-ndjson"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="opennews"'
    assert r.headers["cache-control"] == "no-store"
    assert r.json()["error"]["status"] == 401
    r = client.post("/api/articles", content=b"[]", headers={"authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401
    assert wh.audit() == []  # no token known: nothing to log against


@pytest.mark.parametrize("which", ["wrong", "revoked"])
def test_a_wrong_or_revoked_token_is_401_invalid_token(client: TestClient, wh: Home, which: str) -> None:
    token = wh.revoked if which == "revoked" else wh.ingest[:-2] + "xx"
    r = client.post("/api/articles", content=ndjson(record(1)), headers=bearer(token))
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="opennews", error="invalid_token"'
    with wh.archive() as archive:
        assert archive.count() == 0
    logged = wh.audit()
    if which == "revoked":
        assert [(e["token"], e["action"], e["status"]) for e in logged] == [("old", "ingest", 401)]
    else:
        assert logged == []


def test_a_token_without_the_scope_is_403(client: TestClient, wh: Home) -> None:
    r = client.post("/api/articles", content=ndjson(record(1)), headers=bearer(wh.withdraw))
    assert r.status_code == 403 and "scope" in r.json()["error"]["message"]
    r = client.post("/api/articles/abc/withdraw", json={"reason": "x"}, headers=bearer(wh.ingest))
    assert r.status_code == 403
    assert [(e["token"], e["status"]) for e in wh.audit()] == [("scraper", 403), ("legal", 403)]


def test_the_token_is_never_stored_in_clear(client: TestClient, wh: Home) -> None:
    r = client.post("/api/articles", content=ndjson(record(1)), headers=bearer(wh.ingest))
    assert r.status_code == 200
    stored = b"".join(p.read_bytes() for p in wh.path.glob("opennews.sqlite3*"))
    for token in (wh.ingest, wh.withdraw, wh.revoked):
        assert token.startswith("on_") and len(token) == 46
        assert token.encode() not in stored and token[3:].encode() not in stored
        assert hash_token(token).encode() in stored
    with wh.archive() as archive:
        listed = {t.name: t for t in list_tokens(archive)}
    assert listed["scraper"].last_used is not None and listed["legal"].last_used is None
    assert listed["old"].revoked and not listed["scraper"].revoked


# -- what may be sent ---------------------------------------------------------------------------


def test_another_content_type_is_415(client: TestClient, wh: Home) -> None:
    r = client.post("/api/articles", content=ndjson(record(1)), headers=bearer(wh.ingest, "text/plain"))
    assert r.status_code == 415
    r = client.post("/api/articles/x/withdraw", content=b"reason=x", headers=bearer(wh.withdraw, "text/plain"))
    assert r.status_code == 415
    assert [e["status"] for e in wh.audit()] == [415, 415]


def test_a_body_over_the_cap_is_413_counted_as_it_streams(client: TestClient, wh: Home) -> None:
    line = ndjson(record(1))

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked, so only counting can tell
        for _ in range(CAP // len(line) + 2):
            yield line

    r = client.post("/api/articles", content=chunks(), headers=bearer(wh.ingest))
    assert r.status_code == 413 and "OPENNEWS_MAX_WRITE_BYTES" in r.json()["error"]["message"]
    big = line * (CAP // len(line) + 2)
    r = client.post("/api/articles", content=big, headers=bearer(wh.ingest))  # an honest Content-Length
    assert r.status_code == 413
    r = client.post("/api/articles", content=line * (CAP // len(line)), headers=bearer(wh.ingest))
    assert r.status_code == 200  # just under the cap
    with wh.archive() as archive:
        assert archive.count() == 1


def test_a_lying_content_length_does_not_get_a_bigger_body_in(wh: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ASGI app called directly: a server that passed on more than the Content-Length said
    (uvicorn does not, but the app must not rely on it) still gets a 413."""
    monkeypatch.setenv("OPENNEWS_MAX_WRITE_BYTES", str(CAP))
    app = create_app(Settings(wh.path), follow=False)
    body = ndjson(record(1)) * (CAP // 200)
    assert len(body) > CAP
    parts = [body[i : i + 8192] for i in range(0, len(body), 8192)]
    sent: list[dict[str, Any]] = []

    async def call() -> None:
        queue = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]

        async def receive() -> dict[str, Any]:
            return queue.pop(0) if queue else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/articles",
            "raw_path": b"/api/articles",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"authorization", f"Bearer {wh.ingest}".encode()),
                (b"content-type", b"application/x-ndjson"),
                (b"content-length", b"100"),
            ],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
            "state": {},
        }
        await app(scope, receive, send)

    with TestClient(app):  # runs the lifespan (opens the backend)
        asyncio.run(call())
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    with wh.archive() as archive:
        assert archive.count() == 0


def test_past_the_rate_the_answer_is_429_with_retry_after(wh: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENNEWS_WRITE_RATE", "3")
    with TestClient(create_app(Settings(wh.path), follow=False)) as client:
        answers = [
            client.post("/api/articles", content=b"[]", headers=bearer(wh.ingest, "application/json")) for _ in range(4)
        ]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["retry-after"]) in (19, 20)  # one request every 20 s at 3 a minute
        other = client.post("/api/articles/x/restore", headers=bearer(wh.withdraw))
        assert other.status_code == 404  # each token has its own bucket
    assert next(e["status"] for e in wh.audit() if e["token"] == "scraper") == 429


def test_the_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.take("a") == 0 for _ in range(60))
    assert limiter.take("a") == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.take("a") == 0 and limiter.take("a") > 0
    assert RateLimiter(0).take("a") == 0  # 0: no limit


def test_write_limits_come_from_the_environment() -> None:
    assert WriteLimits.from_env({}) == WriteLimits(16 << 20, 60.0)
    assert WriteLimits.from_env({"OPENNEWS_MAX_WRITE_BYTES": "1M", "OPENNEWS_WRITE_RATE": "5"}) == WriteLimits(
        1 << 20, 5.0
    )
    with pytest.raises(ValueError, match="OPENNEWS_WRITE_RATE"):
        WriteLimits.from_env({"OPENNEWS_WRITE_RATE": "-1"})


# -- what a write does --------------------------------------------------------------------------


def test_ndjson_keeps_the_good_records_and_reports_each_reject(client: TestClient, wh: Home) -> None:
    body = ndjson(record(1), {"url": "https://tin.example/x.html", "title": ""}, record(2)) + b"{not json\n"
    r = client.post("/api/articles", content=body, headers=bearer(wh.ingest))
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in r.headers
    answer = r.json()
    assert {k: answer[k] for k in ("added", "updated", "unchanged", "rejected")} == {
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
    }
    assert [(x["where"], x["reason"]) for x in answer["rejects"]] == [
        ("line 2", "missing title"),
        ("line 4", answer["rejects"][1]["reason"]),
    ]
    assert answer["rejects"][1]["reason"].startswith("invalid JSON")
    with wh.archive() as archive:
        assert archive.count() == 2
        runs = archive.runs(limit=1)
    assert runs[0]["command"] == "api" and runs[0]["inputs"][0]["input"] == "token scraper"
    rejects = [orjson.loads(x) for x in (wh.path / "rejects.ndjson").read_bytes().splitlines()]
    assert [x["where"] for x in rejects] == ["line 2", "line 4"]  # as opennews ingest keeps them
    # The same again: nothing new; an edit: a new version.
    again = client.post("/api/articles", content=ndjson(record(1)), headers=bearer(wh.ingest)).json()
    assert (again["added"], again["unchanged"]) == (0, 1)
    edited = record(1, body="Đoạn một đã sửa.\n\nĐoạn hai nói về mùa nước nổi.")
    changed = client.post("/api/articles", content=ndjson(edited), headers=bearer(wh.ingest)).json()
    assert changed["updated"] == 1
    entry = wh.audit()[0]
    assert (entry["token"], entry["action"], entry["status"], entry["updated"], entry["client"]) == (
        "scraper",
        "ingest",
        200,
        1,
        "testclient",
    )


def test_a_json_array_is_read_too_with_its_rejects(client: TestClient, wh: Home) -> None:
    body = orjson.dumps([record(1), {"title": "Không có nội dung"}, record(3)])
    r = client.post("/api/articles", content=body, headers=bearer(wh.ingest, "application/json; charset=utf-8"))
    answer = r.json()
    assert r.status_code == 200 and (answer["added"], answer["rejected"]) == (2, 1)
    assert len(answer["rejects"]) == 1 and answer["rejects"][0]["where"]
    not_an_array = client.post("/api/articles", content=b'{"a": [1, 2', headers=bearer(wh.ingest, "application/json"))
    assert not_an_array.status_code == 200 and not_an_array.json()["rejected"] >= 1


def test_withdraw_and_restore(client: TestClient, wh: Home) -> None:
    client.post("/api/articles", content=ndjson(record(1)), headers=bearer(wh.ingest))
    with wh.archive() as archive:
        article = archive.listing(0, 1)[0][0]
    path = f"/api/articles/{article}"
    assert client.post(path + "/withdraw", json={}, headers=bearer(wh.withdraw, JSON)).status_code == 400
    assert client.post(path + "/withdraw", json={"reason": "  "}, headers=bearer(wh.withdraw, JSON)).status_code == 400
    r = client.post(path + "/withdraw", json={"reason": "Yêu cầu gỡ bài"}, headers=bearer(wh.withdraw, JSON))
    assert r.status_code == 200 and r.json() == {"id": article, "withdrawn": True, "reason": "Yêu cầu gỡ bài"}
    assert client.get(path).status_code == 410
    assert (
        client.post(path + "/withdraw", json={"reason": "lần nữa"}, headers=bearer(wh.withdraw, JSON)).status_code
        == 409
    )
    r = client.post(path + "/restore", headers=bearer(wh.withdraw, JSON))
    assert r.status_code == 200 and r.json() == {"id": article, "withdrawn": False}
    assert client.get(path).status_code == 200
    assert client.post(path + "/restore", headers=bearer(wh.withdraw, JSON)).status_code == 409
    nowhere = client.post("/api/articles/khong-co/withdraw", json={"reason": "x"}, headers=bearer(wh.withdraw, JSON))
    assert nowhere.status_code == 404
    logged = [(e["action"], e["target"], e["status"]) for e in reversed(wh.audit()) if e["token"] == "legal"]
    assert logged == [
        ("withdraw", article, 400),
        ("withdraw", article, 400),
        ("withdraw", article, 200),
        ("withdraw", article, 409),
        ("restore", article, 200),
        ("restore", article, 409),
        ("withdraw", "khong-co", 404),
    ]


def test_reads_stay_open_and_the_document_names_the_scheme(client: TestClient) -> None:
    assert client.get("/api/stats").status_code in (200, 503)
    document = client.get("/api/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "post":
                assert operation["security"] == [{"bearerAuth": []}], path
                assert {"401", "403", "413", "415", "429"} <= set(operation["responses"]), path
            else:
                assert "security" not in operation, path
    assert "security" not in document
    assert client.get("/api/articles").status_code == 405


# -- the CLI ------------------------------------------------------------------------------------


def test_tokens_and_audit_on_the_command_line(cli: Any, home: Path) -> None:
    code, out, _ = cli("tokens", "create", "--name", "bot", "--scope", "ingest", "--home", str(home))
    token = out.splitlines()[-1]
    assert code == 0 and token.startswith("on_") and "shown once" in out
    assert cli("tokens", "create", "--name", "bot", "--scope", "withdraw")[0] == 1  # names are unique
    with pytest.raises(SystemExit):  # argparse: no such scope
        cli("tokens", "create", "--name", "x", "--scope", "admin")
    code, out, _ = cli("tokens")
    assert code == 0 and "bot" in out and "ingest" in out and token not in out
    code, out, _ = cli("tokens", "--json")
    listed = orjson.loads(out)
    assert [(t["name"], t["scope"], t["revoked"]) for t in listed] == [("bot", "ingest", False)]
    assert token not in out and "hash" not in listed[0]
    assert cli("tokens", "revoke", "bot")[0] == 0
    assert cli("tokens", "revoke", "bot")[0] == 1  # already
    assert orjson.loads(cli("tokens", "--json")[1])[0]["revoked"] is True
    with Archive.open(home / "opennews.sqlite3") as archive:
        from opennews.tokens import audit

        audit(
            archive,
            token="bot",
            action="ingest",
            target="run 1",
            status=200,
            counts={"added": 2, "updated": 0, "unchanged": 0, "rejected": 1},
            client="10.0.0.1",
        )
    code, out, _ = cli("audit")
    assert code == 0 and "bot from 10.0.0.1: ingest run 1 → 200: added 2" in out
    entries = orjson.loads(cli("audit", "--json", "--limit", "5")[1])
    assert entries[0]["added"] == 2 and entries[0]["token"] == "bot"


# -- a real server --------------------------------------------------------------------------------


def test_an_article_pushed_while_serving_is_searchable_within_10_seconds(web_home: WebHome, tmp_path: Path) -> None:
    path = tmp_path / "home"
    shutil.copytree(web_home.path, path)
    with Archive.open(path / "opennews.sqlite3") as archive:
        token = create_token(archive, "scraper", "ingest")
    word = "thuyềnthúngvàngson"
    article = record(9, title=f"Lễ hội {word} ở Phú Yên", body=f"Hàng trăm chiếc {word} đua trên sông.\n\nĐoạn hai.")
    with serving(path, options=["--write-rate", "2", "--max-write-bytes", "4K"]) as base:
        before = httpx.get(f"{base}/api/search", params={"q": word}, timeout=10).json()
        assert before["total"] == 0
        started = time.monotonic()
        r = httpx.post(f"{base}/api/articles", content=ndjson(article), headers=bearer(token), timeout=10)
        assert r.status_code == 200 and r.json()["added"] == 1
        while True:
            found = httpx.get(f"{base}/api/search", params={"q": word}, timeout=10).json()
            if found["total"] == 1:
                break
            assert time.monotonic() - started < 10, "not searchable within 10 s"
            time.sleep(0.2)
        assert found["results"][0]["title"] == article["title"]

        # serve's flags set the limits of its workers; a chunked body is counted over a real socket too.
        def chunks() -> Iterator[bytes]:
            for _ in range(10):
                yield b" " * 1024

        over = httpx.post(f"{base}/api/articles", content=chunks(), headers=bearer(token), timeout=10)
        assert over.status_code == 413 and "4 KiB" in over.json()["error"]["message"]
        limited = httpx.post(f"{base}/api/articles", content=b"[]", headers=bearer(token, JSON), timeout=10)
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 30


def test_the_token_store_on_each_backend(archive_target: str | Path) -> None:
    """tokens.py reaches the database only through Archive.execute and transaction: the same
    on SQLite and PostgreSQL (names kept after a revoke, the audit log newest first)."""
    from opennews.archive import ArchiveError
    from opennews.tokens import audit, find_token

    with Archive.open(archive_target) as archive:
        secret = create_token(archive, "scraper.1", "ingest")
        create_token(archive, "takedowns", "withdraw")
        with pytest.raises(ArchiveError, match="exists already"):
            create_token(archive, "scraper.1", "withdraw")
        found = find_token(archive, secret)
        assert found is not None and found.name == "scraper.1" and found.scope == "ingest"
        assert find_token(archive, secret + "x") is None
        assert revoke_token(archive, "scraper.1").revoked
        with pytest.raises(ArchiveError, match="revoked already"):
            revoke_token(archive, "scraper.1")
        assert [(t.name, t.revoked) for t in list_tokens(archive)] == [("scraper.1", True), ("takedowns", False)]
        audit(archive, token="scraper.1", action="ingest", target=None, status=200, counts={"added": 2})
        audit(archive, token=None, action="withdraw", target="abc", status=401, detail="100% sai")
        log = audit_log(archive)
        assert [(e.action, e.status, e.added, e.detail) for e in log] == [
            ("withdraw", 401, None, "100% sai"),
            ("ingest", 200, 2, None),
        ]
        assert log[0].seq > log[1].seq
