"""The write API against careless or hostile clients: odd Authorization headers, deeply nested
or huge JSON, an NDJSON line over the record cap, odd article ids, two writers at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from opennews.archive import Archive
from opennews.settings import Settings
from opennews.tokens import audit_log, create_token
from opennews.web import create_app

NDJSON = "application/x-ndjson"


def record(n: int, **more: Any) -> dict[str, Any]:
    return {
        "url": f"https://tin.example/bai-{n}.html",
        "source": "tin.example",
        "title": f"Bản tin số {n} về mùa nước nổi ở miền Tây",
        "body": f"Đoạn một của bản tin số {n}.\n\nĐoạn hai nói về mùa nước nổi.",
        "published": "2024-09-01T08:00:00+07:00",
        **more,
    }


@pytest.fixture
def tokens(home: Path) -> dict[str, str]:
    with Archive.open(home / "opennews.sqlite3") as archive:
        return {
            "ingest": create_token(archive, "scraper", "ingest"),
            "withdraw": create_token(archive, "legal", "withdraw"),
        }


@pytest.fixture
def client(home: Path, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("OPENNEWS_MAX_WRITE_BYTES", str(1 << 20))
    monkeypatch.setenv("OPENNEWS_WRITE_RATE", "6000")
    with TestClient(create_app(Settings(home), follow=False), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(
    "header",
    ["bearer {t}", "BEARER {t}", "Bearer  {t} ", "Bearer {t}\t"],
)
def test_the_scheme_s_case_and_spaces_around_the_token_do_not_matter(
    client: TestClient, tokens: dict[str, str], header: str
) -> None:
    r = client.post(
        "/api/articles",
        content=orjson.dumps(record(1)) + b"\n",
        headers={"authorization": header.format(t=tokens["ingest"]), "content-type": NDJSON},
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Bearer\t{t}", "Token {t}", "{t}", "Bearer {t}x", "Bearer x{t}"]
)
def test_malformed_authorization_is_401(client: TestClient, tokens: dict[str, str], header: str) -> None:
    r = client.post(
        "/api/articles",
        content=b"[]",
        headers={"authorization": header.format(t=tokens["ingest"]), "content-type": "application/json"},
    )
    assert r.status_code == 401 and "www-authenticate" in r.headers
    assert tokens["ingest"] not in r.text


def test_deeply_nested_and_wide_json_is_a_reject_not_a_500(
    client: TestClient, tokens: dict[str, str], home: Path
) -> None:
    auth = {"authorization": f"Bearer {tokens['ingest']}", "content-type": "application/json; charset=utf-8"}
    deep = b"[" + orjson.dumps(record(1)) + b"," + b"[" * 100_000 + b"]" * 100_000 + b"]"
    r = client.post("/api/articles", content=deep, headers=auth)
    assert r.status_code in (200, 400), r.text
    many = orjson.dumps([record(n) for n in range(2, 4)] + [1] * 100_000)
    r = client.post("/api/articles", content=many, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 2 and r.json()["rejected"] >= 1


def test_an_ndjson_line_over_the_record_cap_is_a_reject_beside_kept_records(
    home: Path, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENNEWS_MAX_RECORD_BYTES", "65536")
    big = record(2, body="chữ " * 20_000)
    body = b"".join(orjson.dumps(r) + b"\n" for r in (record(1), big, record(3)))
    auth = {"authorization": f"Bearer {tokens['ingest']}", "content-type": NDJSON}
    with TestClient(create_app(Settings(home), follow=False)) as client:
        r = client.post("/api/articles", content=body, headers=auth)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["added"], answer["rejected"]) == (2, 1), answer
    assert (
        answer["rejects"][0]["where"].endswith("line 2")
        and "OPENNEWS_MAX_RECORD_BYTES" in answer["rejects"][0]["reason"]
    )


@pytest.mark.parametrize("raw", ["a" * 5000, "b%C3%A0i-vi%E1%BB%87t", "%2e%2e", "0123456789abcdef%20"])
def test_odd_ids_are_404_and_audited(client: TestClient, tokens: dict[str, str], home: Path, raw: str) -> None:
    auth = {"authorization": f"Bearer {tokens['withdraw']}", "content-type": "application/json"}
    r = client.post(f"/api/articles/{raw}/withdraw", content=b'{"reason": "x"}', headers=auth)
    assert r.status_code == 404, r.text
    r = client.post(f"/api/articles/{raw}/restore", headers=auth)
    assert r.status_code == 404, r.text
    assert r.headers["cache-control"] == "no-store"
    with Archive.open(home / "opennews.sqlite3") as archive:
        logged = audit_log(archive)
    assert [(e.action, e.status) for e in logged] == [("restore", 404), ("withdraw", 404)]


@pytest.mark.parametrize("raw", ["..%2F..%2Fetc%2Fpasswd", "../../api/articles", "a%2Fb"])
def test_a_slash_in_an_id_never_reaches_a_write(
    client: TestClient, tokens: dict[str, str], home: Path, raw: str
) -> None:
    auth = {"authorization": f"Bearer {tokens['withdraw']}", "content-type": "application/json"}
    r = client.post(f"/api/articles/{raw}/withdraw", content=b'{"reason": "x"}', headers=auth)
    assert r.status_code in (404, 405)
    with Archive.open(home / "opennews.sqlite3") as archive:
        assert audit_log(archive) == [] and archive.count() == 0


def test_two_writers_at_once_both_land(client: TestClient, tokens: dict[str, str], home: Path) -> None:
    auth = {"authorization": f"Bearer {tokens['ingest']}", "content-type": NDJSON}
    answers: list[int] = []

    def push(start: int) -> None:
        body = b"".join(orjson.dumps(record(n)) + b"\n" for n in range(start, start + 200))
        answers.append(client.post("/api/articles", content=body, headers=auth).status_code)

    threads = [threading.Thread(target=push, args=(s,)) for s in (0, 1000, 2000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200, 200, 200]
    with Archive.open(home / "opennews.sqlite3") as archive:
        assert archive.count() == 600
        assert [e.added for e in audit_log(archive)] == [200, 200, 200]


def test_a_withdrawal_reason_with_terminal_escapes_is_printed_harmless(
    client: TestClient, tokens: dict[str, str], cli: Any
) -> None:
    """A token holder's free text (a withdrawal's reason) reaches the operator's terminal
    through 'opennews audit': control characters are shown escaped, never sent to the terminal."""
    auth = {"authorization": f"Bearer {tokens['withdraw']}", "content-type": "application/json"}
    client.post(
        "/api/articles/0123456789abcdef/withdraw", content=b'{"reason": "gian l\\u1eadn \\u001b[2J"}', headers=auth
    )
    code, out, _ = cli("audit")
    assert code == 0 and "\x1b" not in out
    assert "gian lận \\x1b[2J" in out
