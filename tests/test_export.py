"""Open data over HTTP: /dumps/ listing and resumable downloads, /api/export streaming, the CLI export.

Read-only tests use the shared demo home (its dumps were written by ``opennews demo``);
tests that change the archive work on a copy.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import orjson
import pytest
from starlette.testclient import TestClient

from opennews.archive import Archive
from opennews.cli import main
from opennews.dumps import load_manifest
from opennews.settings import Settings
from opennews.web import create_app
from tools import require
from webhome import WebHome, serving


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    return client.get("/api/openapi.json").json()


@pytest.fixture(scope="module")
def stored(web_home: WebHome) -> list[bytes]:
    with Archive.open(web_home.path / "opennews.sqlite3", readonly=True) as archive:
        return [r.encode() for r in archive.iter_json()]


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def validator(openapi: dict[str, Any], path: str, media: str) -> jsonschema.Draft202012Validator:
    content = openapi["paths"][path]["get"]["responses"]["200"]["content"]
    return jsonschema.Draft202012Validator({**content[media]["schema"], "components": openapi["components"]})


# -- the listing and the files ---------------------------------------------------------


def test_dumps_listing_for_people_and_as_json(client: TestClient, openapi: dict[str, Any], web_home: WebHome) -> None:
    manifest = load_manifest(web_home.path / "dumps")
    assert manifest is not None
    page = client.get("/dumps/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for entry in manifest["files"][:5]:
        assert f'href="/dumps/{entry["name"]}"' in page.text
    assert "Tải về kho lưu trữ" in page.text
    assert "Download the archive" in client.get("/dumps/?lang=en").text
    api = client.get("/api/dumps")
    assert api.status_code == 200
    validator(openapi, "/api/dumps", "application/json").validate(api.json())
    assert api.json()["files"] == manifest["files"]
    assert client.get("/dumps/manifest.json").json() == manifest
    schema = client.get("/schema/article.json")
    assert schema.headers["content-type"].startswith("application/schema+json")
    assert schema.json()["$id"] == "http://testserver/schema/article.json"


def test_a_file_is_served_whole_with_its_hash_as_etag(client: TestClient, web_home: WebHome) -> None:
    entry = next(e for e in load_manifest(web_home.path / "dumps")["files"] if e["name"] == "articles-all.ndjson.gz")  # type: ignore[index]
    r = client.get("/dumps/articles-all.ndjson.gz")
    assert r.status_code == 200
    assert r.headers["content-length"] == str(entry["bytes"]) == str(len(r.content))
    assert hashlib.sha256(r.content).hexdigest() == entry["sha256"]
    assert r.headers["etag"] == f'"sha256-{entry["sha256"]}"'
    assert r.headers["accept-ranges"] == "bytes" and "last-modified" in r.headers
    assert "content-encoding" not in r.headers
    assert client.get("/dumps/articles-all.ndjson.gz", headers={"if-none-match": r.headers["etag"]}).status_code == 304
    head = client.head("/dumps/articles-all.ndjson.gz")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(entry["bytes"])


def test_ranges_resume_a_download(client: TestClient) -> None:
    whole = client.get("/dumps/articles-all.ndjson.gz").content
    size, etag = len(whole), client.head("/dumps/articles-all.ndjson.gz").headers["etag"]
    r = client.get("/dumps/articles-all.ndjson.gz", headers={"range": "bytes=10-99"})
    assert r.status_code == 206 and r.content == whole[10:100]
    assert r.headers["content-range"] == f"bytes 10-99/{size}" and r.headers["content-length"] == "90"
    r = client.get("/dumps/articles-all.ndjson.gz", headers={"range": "bytes=1000-"})
    assert r.status_code == 206 and r.content == whole[1000:]
    r = client.get("/dumps/articles-all.ndjson.gz", headers={"range": "bytes=-100"})
    assert r.status_code == 206 and r.content == whole[-100:]
    r = client.get("/dumps/articles-all.ndjson.gz", headers={"range": f"bytes=100-{size * 2}"})
    assert r.status_code == 206 and r.headers["content-range"] == f"bytes 100-{size - 1}/{size}"
    r = client.get("/dumps/articles-all.ndjson.gz", headers={"range": f"bytes={size}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}"
    r = client.get("/dumps/articles-all.ndjson.gz", headers={"range": "bytes=0-9", "if-range": etag})
    assert r.status_code == 206 and r.content == whole[:10]
    r = client.get("/dumps/articles-all.ndjson.gz", headers={"range": "bytes=0-9", "if-range": '"sha256-other"'})
    assert r.status_code == 200 and r.content == whole  # the file changed: start again
    r = client.get("/dumps/articles-all.ndjson.gz", headers={"range": "bytes=0-1,5-9"})
    assert r.status_code == 206 and r.headers["content-type"].startswith("multipart/byteranges; boundary=")
    boundary = r.headers["content-type"].split("boundary=")[1].encode()
    parts = [p for p in r.content.split(b"--" + boundary) if p.strip(b"-\r\n")]
    assert [p.split(b"\r\n\r\n", 1)[1][:-2] for p in parts] == [whole[0:2], whole[5:10]]
    assert f"Content-Range: bytes 5-9/{size}".encode() in parts[1]
    r = client.get("/dumps/articles-all.ndjson.gz", headers={"range": "lines=0-9"})
    assert r.status_code == 200 and r.content == whole  # a unit we do not know: ignored (RFC 9110 §14.2)
    head = client.head("/dumps/articles-all.ndjson.gz", headers={"range": "bytes=10-99"})
    assert head.status_code == 206 and head.content == b"" and head.headers["content-length"] == "90"


@pytest.mark.parametrize(
    "value", ["bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000, "bytes=0-" + "9" * 5000, "bytes=5-2", "bytes=x-y"]
)
def test_a_range_that_does_not_parse_is_a_400(client: TestClient, value: str) -> None:
    """A range of 5,000 digits is refused like any other that does not parse (int() refuses
    more than 4,300 digits: an exception, were it parsed here)."""
    r = client.get("/dumps/articles-all.ndjson.gz", headers={"range": value})
    assert r.status_code == 400 and "etag" not in r.headers


def _open_copies(path: Path) -> int:
    """How many descriptors of this process have ``path`` open."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            count += os.readlink(fd) == str(path)
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads descriptors in /proc")
def test_every_answer_closes_the_file_it_opened(client: TestClient, web_home: WebHome) -> None:
    """The file is opened here and handed to FileResponse: whatever the answer (whole, ranges,
    416, 400, 304, HEAD), its descriptor is closed."""
    url = "/dumps/articles-all.ndjson.gz"
    path = (web_home.path / "dumps" / "articles-all.ndjson.gz").resolve()
    etag = client.head(url).headers["etag"]
    asks = [{}, {"range": "bytes=0-9"}, {"range": "bytes=0-1,4-5"}, {"range": "bytes=99999999-"}]
    asks += [{"range": "bytes=x"}, {"if-none-match": etag}, {"range": "lines=1-2"}]
    for headers in asks * 3:
        assert client.get(url, headers=headers).status_code in (200, 206, 304, 400, 416)
        assert client.head(url, headers=headers).status_code in (200, 206, 304, 400, 416)
    assert _open_copies(path) == 0


def _offering_pathsend(app: Any, sent: list[dict[str, Any]]) -> Any:
    """``app`` in a scope offering the ``http.response.pathsend`` extension, as a server that sends
    files by their path would; what it sends is noted in ``sent``."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "http.response.pathsend": {}}}

        async def noting(message: dict[str, Any]) -> None:
            sent.append(message)
            await send(message)

        await app(scope, receive, noting)

    return wrapped


@pytest.mark.parametrize("fd_dir", ["as found", "missing"])
@pytest.mark.parametrize("headers", [{}, {"range": "bytes=10-99"}, {"range": "bytes=0-1,5-9"}])
def test_a_file_renamed_over_while_it_is_served_is_not_what_is_sent(
    web_home: WebHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str], fd_dir: str
) -> None:
    """The sync renames a rewritten dump file into place whenever it likes. Renamed over the file
    between the response being built (its length and hash in the headers) and sent, the file
    opened is still what is sent, whole or in ranges; and a server that could send a file by its
    path is not handed one (it would open it after the response ended). Without /proc (and
    /dev/fd) the descriptor cannot be opened again: the replaced file gets a 503 before any
    header, not another file's bytes under this one's length and hash."""
    from opennews.web import dumps as web_dumps

    if fd_dir == "missing":
        monkeypatch.setattr(web_dumps, "_FD_DIR", tmp_path / "no-proc")
    home = tmp_path / "home"
    shutil.copytree(web_home.path, home)
    target = home / "dumps" / "articles-all.ndjson.gz"
    original = target.read_bytes()
    replacement = target.with_name("articles-all.ndjson.gz.tmp")
    respond = web_dumps.Dumps._respond

    def respond_then_replace(self: Any, *args: Any) -> Any:
        response = respond(self, *args)
        if replacement.exists():
            os.replace(replacement, target)
        return response

    monkeypatch.setattr(web_dumps.Dumps, "_respond", respond_then_replace)
    sent: list[dict[str, Any]] = []
    with TestClient(_offering_pathsend(create_app(Settings(home), follow=False), sent)) as c:
        first = c.get("/dumps/articles-all.ndjson.gz", headers=headers)
        assert first.status_code in (200, 206) and all(m["type"] != "http.response.pathsend" for m in sent)
        replacement.write_bytes(b"another file, " * 100_000)
        r = c.get("/dumps/articles-all.ndjson.gz", headers=headers)
    assert not replacement.exists() and target.read_bytes() != original, "the file was not replaced"
    if fd_dir == "missing":
        assert r.status_code == 503 and r.headers["retry-after"] and "etag" not in r.headers
        return
    boundary = r.headers["content-type"].partition("boundary=")[2].encode()
    same = first.headers["content-type"].partition("boundary=")[2].encode()
    assert r.status_code == first.status_code and r.content.replace(boundary, same) == first.content
    assert r.headers["content-length"] == str(len(r.content)) and r.headers["etag"] == first.headers["etag"]
    assert r.content == {"": original, "bytes=10-99": original[10:100]}.get(headers.get("range", ""), r.content)


def test_if_modified_since(client: TestClient) -> None:
    last = client.get("/dumps/manifest.json").headers["last-modified"]
    for since, status in ((last, 304), ("Sat, 01 Jan 2000 00:00:00 GMT", 200), ("not a date", 200)):
        assert client.get("/dumps/manifest.json", headers={"if-modified-since": since}).status_code == status


def test_article_files_are_withheld_while_they_may_hold_a_withdrawn_article(web_home: WebHome, tmp_path: Path) -> None:
    """A manifest written before the last withdrawal (the sync rewriting the files): the article
    files answer 503 with Retry-After, ranges or not; the withdrawals and the metadata are served."""
    home = tmp_path / "home"
    shutil.copytree(web_home.path, home)
    manifest = load_manifest(home / "dumps")
    assert manifest is not None
    manifest["archive"]["last_change"] = 0
    (home / "dumps" / "manifest.json").write_bytes(orjson.dumps(manifest))
    with TestClient(create_app(Settings(home), follow=False)) as c:
        for headers in ({}, {"range": "bytes=0-9"}):
            r = c.get("/dumps/articles-all.ndjson.gz", headers=headers)
            assert r.status_code == 503 and r.headers["retry-after"] == "30"
            assert r.headers["cache-control"] == "no-store"
        assert c.get("/dumps/withdrawals.ndjson.gz").status_code == 200
        assert c.get("/dumps/manifest.json", headers={"range": "bytes=0-9"}).status_code == 206


@pytest.mark.parametrize(
    "path",
    [
        "/dumps/..%2Fopennews.sqlite3",
        "/dumps/%2e%2e%2fopennews.sqlite3",
        "/dumps/opennews.sqlite3",
        "/dumps/%2Fetc%2Fpasswd",
        "/dumps/.lock",
        "/dumps/...",
        "/dumps/%2e%2e",
        "/dumps/articles-1999-01.ndjson.gz",
        "/dumps/..%5c..%5copennews.sqlite3",
    ],
)
def test_nothing_outside_the_manifest_is_served(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404, path
    assert b"SQLite" not in r.content and b"root:" not in r.content


def test_symlinks_and_unlisted_files_are_refused(web_home: WebHome, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "dumps").mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (home / "dumps" / "articles-2001-01.ndjson.gz").symlink_to(secret)
    (home / "dumps" / "articles-2001-02.ndjson.gz").write_bytes(b"not listed")
    manifest = {"files": [{"name": "articles-2001-01.ndjson.gz", "bytes": 6, "sha256": "0" * 64}]}
    (home / "dumps" / "manifest.json").write_bytes(orjson.dumps(manifest))
    with TestClient(create_app(Settings(home))) as c:
        assert c.get("/dumps/articles-2001-01.ndjson.gz").status_code == 404
        assert c.get("/dumps/articles-2001-02.ndjson.gz").status_code == 404
        assert c.get("/dumps/manifest.json").status_code == 200


# -- /api/export ---------------------------------------------------------------------


def test_export_streams_the_whole_archive_like_the_cli(
    client: TestClient, stored: list[bytes], web_home: WebHome, tmp_path: Path
) -> None:
    r = client.get("/api/export", headers={"accept-encoding": "identity"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    assert r.content.splitlines() == stored
    target = tmp_path / "cli.ndjson"
    assert run("--home", str(web_home.path), "export", "-o", str(target))[0] == 0
    assert target.read_bytes() == r.content
    as_json = client.get("/api/export?format=json").json()
    assert [orjson.dumps(x) for x in as_json] == stored
    rows = list(csv.DictReader(io.StringIO(client.get("/api/export?format=csv").text)))
    assert [r["id"] for r in rows] == [orjson.loads(s)["id"] for s in stored]


def test_export_of_a_search_gives_every_match(client: TestClient, openapi: dict[str, Any]) -> None:
    facets = client.get("/api/search").json()["facets"]["source"]
    source = facets[0]["value"]
    total = client.get("/api/search", params={"source": source}).json()["total"]
    assert total > 10  # more than one page of search results
    r = client.get("/api/export", params={"source": source})
    records = [orjson.loads(x) for x in r.content.splitlines()]
    assert len(records) == total == int(r.headers["x-total-count"])
    assert {x["source"] for x in records} == {source}
    published = [x["published"] for x in records]
    assert published == sorted(published, reverse=True)  # newest first
    check = validator(openapi, "/api/export", "application/x-ndjson")
    for record in records:
        check.validate(record)
    word = records[0]["title"].split()[0]
    found = client.get("/api/export", params={"q": word, "format": "json", "from": "2000-01-01"}).json()
    assert found and len(found) == client.get("/api/search", params={"q": word, "from": "2000-01-01"}).json()["total"]


@pytest.mark.parametrize(
    "query",
    [
        "format=xml",
        "format=",
        "since=yesterday",
        "since=2024-01-01T00:00",  # RFC 3339 wants the zone; fromisoformat alone would take it
        "since=" + "2" * 100,
        "cursor=-1",
        "cursor=%C2%B2",
        "cursor=" + "9" * 19,
        "from=x",
    ],
)
def test_export_refuses_bad_requests(client: TestClient, query: str) -> None:
    r = client.get("/api/export?" + query)
    assert r.status_code == 400 and r.json()["error"]["status"] == 400


@pytest.mark.parametrize("query", ["since=2024-01-01&format=csv", "since=2024-01-01&q=a", "cursor=0&source=x"])
def test_export_refuses_parameters_that_cannot_go_together(client: TestClient, query: str) -> None:
    r = client.get("/api/export?" + query)
    assert r.status_code == 422 and r.json()["error"]["status"] == 422


@pytest.mark.parametrize(
    "since",
    [
        "0001-01-01T00:00:00+14:00",  # before UTC's first moment: everything
        "9999-12-31T23:59:59-14:00",  # after its last: nothing
        "2016-12-31T23:59:60Z",  # a leap second
        "2020-01-01t00:00:00.123456789z",
    ],
)
def test_export_since_takes_every_rfc3339_moment(client: TestClient, since: str, stored: list[bytes]) -> None:
    """The first two are the edges of what converts to UTC (one step past is an OverflowError)."""
    r = client.get("/api/export", params={"since": since})
    assert r.status_code == 200 and int(r.headers["x-next-cursor"]) > 0
    assert r.content.count(b"\n") == (0 if since.startswith("9999") else len(stored) + 1)


def test_incremental_export_with_cursor_and_tombstones(web_home: WebHome, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(web_home.path, home)
    with TestClient(create_app(Settings(home))) as c:
        everything = c.get("/api/export?since=1970-01-01")
        lines = [orjson.loads(x) for x in everything.content.splitlines()]
        assert sum(1 for x in lines if x.get("tombstone")) == 1  # the demo home's withdrawn article
        assert len(lines) == 300
        cursor = everything.headers["x-next-cursor"]
        assert 'rel="next"' in everything.headers["link"]
        assert c.get(f"/api/export?cursor={cursor}").content == b""
        assert c.get("/api/export?since=2999-01-01T00:00:00Z").content == b""

        changed = lines[1]
        assert not changed.get("tombstone")
        new = {"url": "https://vnexpress.net/bai-moi-123.html", "title": "Bài mới về thủy điện", "body": "Nội dung."}
        edited = {**changed, "body": changed["body"] + "\n\nĐoạn bổ sung."}
        edited.pop("content_hash")
        source = tmp_path / "more.ndjson"
        source.write_bytes(orjson.dumps(edited) + b"\n" + orjson.dumps(new) + b"\n")
        assert run("--home", str(home), "ingest", "--quiet", "--no-dumps", str(source))[0] == 0
        gone = lines[2]["id"]
        assert run("--home", str(home), "withdraw", gone, "--reason", "sai sự thật")[0] == 0

        r = c.get(f"/api/export?cursor={cursor}&format=json")
        out = r.json()
        assert [x["id"] for x in out][:1] == [changed["id"]] and len(out) == 3
        assert out[0]["body"].endswith("Đoạn bổ sung.") and out[1]["title"] == "Bài mới về thủy điện"
        assert out[2] == {
            "id": gone,
            "tombstone": True,
            "withdrawn_at": out[2]["withdrawn_at"],
            "reason": "sai sự thật",
            "purged": False,
        }
        assert int(r.headers["x-next-cursor"]) > int(cursor)
        assert c.get(f"/api/export?cursor={r.headers['x-next-cursor']}").content == b""

    code, _, err = run("--home", str(home), "export", "--cursor", cursor, "-o", str(tmp_path / "inc.ndjson"))
    assert code == 0 and "Exported 3 articles" in err and "Next cursor:" in err
    code, _, err = run("--home", str(home), "export", "--since", "2999-01-01", "-o", str(tmp_path / "none.ndjson"))
    assert code == 0 and "Exported 0 articles" in err


def test_cli_export_formats_and_filters(web_home: WebHome, tmp_path: Path, stored: list[bytes]) -> None:
    source = orjson.loads(stored[0])["source"]
    target = tmp_path / "out.csv"
    code, _, err = run("--home", str(web_home.path), "export", "--source", source, "--format", "csv", "-o", str(target))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    expected = [s for s in stored if orjson.loads(s)["source"] == source]
    assert len(rows) == len(expected) > 0 and {r["source"] for r in rows} == {source}
    assert f"Exported {len(expected)} articles" in err
    target = tmp_path / "out.json"
    assert run("--home", str(web_home.path), "export", "--format", "json", "-o", str(target))[0] == 0
    assert len(orjson.loads(target.read_bytes())) == len(stored)
    assert run("--home", str(web_home.path), "export", "--since", "2020-01-01", "--q", "a")[0] == 2


# -- a real server -----------------------------------------------------------------


def test_curl_resumes_a_broken_download_from_a_real_server(web_home: WebHome, tmp_path: Path) -> None:
    curl = require("curl", "curl is not installed")
    with serving(web_home.path) as base:
        whole = (web_home.path / "dumps" / "articles-all.ndjson.gz").read_bytes()
        part = tmp_path / "articles-all.ndjson.gz"
        part.write_bytes(whole[: len(whole) // 3])  # a download broken a third of the way
        subprocess.run([curl, "-sSf", "-C", "-", "-o", str(part), base + "/dumps/articles-all.ndjson.gz"], check=True)
        assert part.read_bytes() == whole
        shutil.copy(web_home.path / "dumps" / "manifest.json", tmp_path / "manifest.json")
        report = subprocess.run(
            [sys.executable, "-m", "opennews", "verify-dumps", str(tmp_path)], capture_output=True, text=True
        )
        assert "articles-all.ndjson.gz" in report.stdout and "ok       articles-all.ndjson.gz" in report.stdout
        streamed = httpx.get(base + "/api/export", timeout=30, headers={"accept-encoding": "identity"})
        assert streamed.status_code == 200 and streamed.content.count(b"\n") == 299
