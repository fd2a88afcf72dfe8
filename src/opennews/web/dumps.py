"""Open data over HTTP: the dumps folder, resumable downloads, the record schema, streaming exports.

``/dumps/`` lists the files (HTML; ``/api/dumps`` and ``/dumps/manifest.json`` as JSON).
``/dumps/{name}`` serves a file with ``Content-Length``, a strong ``ETag`` (its SHA-256
from the manifest), ``Last-Modified`` (both answered with 304) and byte ranges, so
``curl -C -`` and ``wget -c`` resume. Only names the manifest lists (or the three
metadata files) are served, opened without following symlinks: nothing outside the
dumps folder can be reached.

Ranges are Starlette's ``FileResponse``: one range (206), several (a
``multipart/byteranges`` 206), ``If-Range``, 416 for a range past the end, and 400
for one that does not parse (a range of 5,000 digits included: ``int()`` refuses
more than 4,300). Three things it does not do are done around it. It opens the file
by its path, after the headers are made and sent: the sync renames rewritten files
into place, and a rename in between would send one file's bytes under another's
length and hash; so it is given the descriptor this process opened (without
following symlinks) as ``/proc/self/fd/N``, which opens that very file, and the
descriptor is closed when the response ends, however it ends. Where that cannot be
opened (no /proc mounted), it is given the path while the path is still that file,
else the answer is a 503, decided before any header is sent. It would hand a server
offering ``http.response.pathsend`` that path to open later, after N is closed and
perhaps given to another file, so the extension is not offered to it. And a Range in
another unit than bytes is ignored, as RFC 9110 §14.2 requires, where it would
answer 400.

A takedown is honoured at once here too: while the dump files still hold an article
withdrawn after the position their manifest records (the home's sync is rewriting
them), the article files are answered with 503 and ``Retry-After`` instead of being
served; the withdrawals file and the metadata stay available.

``/api/export`` streams the whole archive, what changed after a cursor or moment, or
every match of a search, as NDJSON, a JSON array or CSV, through a few hundred
kilobytes of memory and a read-only archive connection of its own (a long download
never holds the lock that page views wait on).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ..archive import Archive, ArchiveError
from ..conditional import not_modified
from ..dumps import (
    FORMATS,
    MEDIA_TYPES,
    METADATA_FILES,
    ExportError,
    article_schema,
    changes_window,
    load_manifest,
    parse_since,
    stream_all,
    stream_ids,
    stream_since,
)
from ..dumps.formats import Format
from .api import JSONResponse, error_json
from .backend import Unavailable
from .i18n import N_
from .params import BadRequest, Query, SearchParams, Unprocessable, bounded, parse_search
from .site import Site

__all__ = ["Dumps"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,100}$")
_CONTENT_TYPES = {
    ".ndjson.gz": "application/gzip",
    ".csv.gz": "application/gzip",
    ".ndjson.zst": "application/zstd",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
}


def _content_type(name: str) -> str:
    for suffix, media in _CONTENT_TYPES.items():
        if name.endswith(suffix):
            return media
    return "application/octet-stream"


@dataclass
class _Opened:
    path: Path
    fd: int
    stat: os.stat_result
    etag: str


#: Where an open descriptor can be opened again: Linux's /proc, else the BSDs' and macOS's /dev/fd.
_FD_DIR = Path("/proc/self/fd") if Path("/proc/self/fd").is_dir() else Path("/dev/fd")


def _reopenable(fd: int, st: os.stat_result, path: Path) -> Path | None:
    """A path that opens the very file ``fd`` holds: its entry in :data:`_FD_DIR`; where there is
    none (no /proc mounted, no /dev/fd), ``path`` itself while it is still that file; None when it
    is not (replaced since it was opened). Checked before any header is sent: FileResponse opens
    the path only after it has sent them, when a failure can no longer be answered."""
    for candidate in (_FD_DIR / str(fd), path):
        try:
            if os.path.samestat(os.stat(candidate), st):
                return candidate
        except OSError:
            continue
    return None


class _OpenFile(FileResponse):
    """A FileResponse for a file this process holds open, closed whatever becomes of the response."""

    def __init__(self, opened: _Opened, headers: dict[str, str], media_type: str) -> None:
        super().__init__(opened.path, headers=headers, media_type=media_type, stat_result=opened.stat)
        self.fd = opened.fd

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            path = await run_in_threadpool(_reopenable, self.fd, os.fstat(self.fd), Path(self.path))
            if path is None:
                await _rewritten()(scope, receive, send)
                return
            self.path = path
            await super().__call__(_scope_for_file_response(scope), receive, send)
        finally:
            os.close(self.fd)


def _scope_for_file_response(scope: Scope) -> Scope:
    """The scope FileResponse is given, changed in two ways (this is the one place that knows).

    - No ``http.response.pathsend`` extension: with it, FileResponse hands the server the path
      to send once the response has started, and the server opens it when it likes; the path
      here is ``/proc/self/fd/N``, and N is closed when this response returns, so the server
      could open whatever file the number was given to next.
    - No Range header whose unit is not bytes: RFC 9110 §14.2 says to ignore it, where
      FileResponse would answer 400.
    """
    headers = scope["headers"]
    kept = [(k, v) for k, v in headers if k != b"range" or v.partition(b"=")[0].strip().lower() == b"bytes"]
    extensions = scope.get("extensions") or {}
    if len(kept) == len(headers) and "http.response.pathsend" not in extensions:
        return scope
    others = {name: value for name, value in extensions.items() if name != "http.response.pathsend"}
    return {**scope, "headers": kept, "extensions": others}


def _rewritten() -> Response:
    return Response(
        "This file is being rewritten; try again in a minute.\n",
        status_code=503,
        media_type="text/plain; charset=utf-8",
        headers={"retry-after": "30", "cache-control": "no-store"},
    )


def _not_modified(request: Request, f: _Opened) -> bool:
    headers = request.headers
    return not_modified((f.etag,), int(f.stat.st_mtime), headers.get("if-none-match"), headers.get("if-modified-since"))


#: The largest cursor /api/export takes: 18 digits, within SQLite's 64-bit integers.
MAX_CURSOR = 10**18 - 1
#: RFC 3339: a full-date, or a date-time (T, Z in either case; fractions of any length; a leap second).
_MOMENT = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2}))?$"
)


def _since(text: str) -> datetime:
    """``since`` as the OpenAPI document describes it: an RFC 3339 date-time or full-date, and
    nothing else ``datetime.fromisoformat`` would also take. Fractions beyond microseconds are
    dropped and a leap second is read as the second before it (Python has neither)."""
    if len(text) > 64 or not _MOMENT.match(text):
        raise BadRequest(N_("since must be an ISO 8601 date or time, e.g. 2024-05-01T00:00:00+07:00."))
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)].ljust(6, '0')}{rest[digits:]}"
    if text[17:19] == "60":
        text = text[:17] + "59" + text[19:]
    try:
        return parse_since(text)
    except ExportError:
        raise BadRequest(N_("since must be an ISO 8601 date or time, e.g. 2024-05-01T00:00:00+07:00.")) from None


def _closing(chunks: Iterator[bytes], archive: Archive) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        archive.close()


class Dumps:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.directory = site.settings.dumps_dir
        self._manifest: tuple[tuple[int, int], dict[str, Any] | None] | None = None

    # -- the manifest ---------------------------------------------------------------

    def manifest(self) -> dict[str, Any] | None:
        """The current manifest, re-read only when the file changes."""
        try:
            st = os.stat(self.directory / "manifest.json")
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        if self._manifest is None or self._manifest[0] != stamp:
            self._manifest = (stamp, load_manifest(self.directory))
        return self._manifest[1]

    async def index(self, request: Request) -> Response:
        manifest = await run_in_threadpool(self.manifest)
        context = {"manifest": manifest, "api_url": "/api/dumps", "metadata": METADATA_FILES}
        return self.site.render(request, "dumps.html", context)

    async def api_index(self, request: Request) -> Response:
        manifest = await run_in_threadpool(self.manifest)
        if manifest is None:
            return error_json(404, "no dump files yet; an operator can run 'opennews dumps'")
        return JSONResponse(manifest)

    async def schema(self, request: Request) -> Response:
        body = orjson.dumps(article_schema(str(request.base_url)), option=orjson.OPT_INDENT_2)
        return Response(
            body,
            media_type="application/schema+json",
            headers={"cache-control": "public, max-age=86400", "access-control-allow-origin": "*"},
        )

    # -- files ----------------------------------------------------------------------

    def _open(self, name: str) -> _Opened | None:
        manifest = self.manifest()
        entry = next((e for e in (manifest or {}).get("files", []) if e.get("name") == name), None)
        if entry is None and name not in METADATA_FILES:
            return None
        try:
            fd = os.open(self.directory / name, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return None
        if entry is not None and entry.get("bytes") == st.st_size:
            etag = f'"sha256-{entry["sha256"]}"'
        else:  # metadata files are small: hash what is served
            digest = hashlib.sha256(os.pread(fd, st.st_size, 0)).hexdigest() if st.st_size < 1 << 24 else None
            etag = f'"sha256-{digest}"' if digest else f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'
        return _Opened(self.directory / name, fd, st, etag)

    def _withheld(self, name: str) -> bool:
        """Whether an article file may still hold an article withdrawn since it was written."""
        if not name.startswith("articles-"):
            return False
        manifest = self.manifest()
        if manifest is None:
            return False
        written = int((manifest.get("archive") or {}).get("last_change", 0))
        try:
            return bool(self.site.backend.hidden_since(written))
        except Unavailable:  # no archive to compare with: the manifest is all there is
            return False

    async def file(self, request: Request) -> Response:
        name = request.path_params["name"]
        if not _NAME.match(name) or ".." in name:
            raise HTTPException(404)
        if await run_in_threadpool(self._withheld, name):
            return Response(
                "This file is being rewritten without an article withdrawn since it was written; "
                "try again in a minute.\n",
                status_code=503,
                media_type="text/plain; charset=utf-8",
                headers={"retry-after": "30", "cache-control": "no-store"},
            )
        opened = await run_in_threadpool(self._open, name)
        if opened is None:
            raise HTTPException(404)
        try:
            return self._respond(request, name, opened)
        except BaseException:
            os.close(opened.fd)
            raise

    def _respond(self, request: Request, name: str, f: _Opened) -> Response:
        headers = {
            "etag": f.etag,
            "last-modified": formatdate(f.stat.st_mtime, usegmt=True),
            "cache-control": "public, max-age=300",
            "access-control-allow-origin": "*",
        }
        if _not_modified(request, f):
            os.close(f.fd)
            return Response(status_code=304, headers=headers)
        return _OpenFile(f, headers, _content_type(name))

    # -- export ---------------------------------------------------------------------

    def _archive(self) -> Archive:
        try:
            return Archive.open(self.site.settings.read_target, readonly=True)
        except (ArchiveError, OSError) as exc:
            raise Unavailable(str(exc)) from None

    def _matching_ids(self, params: SearchParams) -> list[str]:
        request = params.request(facets=False, snippets=False, suggest=False)
        return self.site.backend.matching_ids(request)

    async def export(self, request: Request) -> Response:
        query = Query(request.scope["query_string"])
        params = parse_search(query, strict=True)
        fmt = query.values.get("format", "ndjson")
        if fmt not in FORMATS:
            raise BadRequest(N_("format must be one of: ndjson, json, csv."))
        since_text, cursor_text = query.values.get("since"), query.values.get("cursor")
        since, cursor = None, None
        if cursor_text is not None:
            cursor = bounded(cursor_text, "cursor", 0, MAX_CURSOR)
        if since_text is not None:
            since = _since(since_text)
        incremental = since is not None or cursor is not None
        if incremental and (params.q or params.filtered):
            raise Unprocessable(N_("since and cursor cannot be combined with a search."))
        if incremental and fmt == "csv":
            raise Unprocessable(N_("CSV cannot carry tombstones: use ndjson or json with since or cursor."))
        headers = {"cache-control": "no-store", "access-control-allow-origin": "*", "x-content-type-options": "nosniff"}
        if fmt == "csv":
            headers["content-disposition"] = 'attachment; filename="opennews-export.csv"'
        archive = await run_in_threadpool(self._archive)
        try:
            chosen = cast(Format, fmt)
            if incremental:
                window = await run_in_threadpool(changes_window, archive, since=since, cursor=cursor)
                chunks = stream_since(archive, window, chosen)
                headers["x-next-cursor"] = str(window.upto)
                next_url = "/api/export?" + urlencode({"cursor": window.upto, "format": fmt})
                headers["link"] = f'<{next_url}>; rel="next"'
            elif params.q or params.filtered:
                ids = await run_in_threadpool(self._matching_ids, params)
                chunks = stream_ids(archive, ids, chosen)
                headers["x-total-count"] = str(len(ids))
            else:
                chunks = stream_all(archive, chosen)
        except BaseException:
            archive.close()
            raise
        return StreamingResponse(_closing(chunks, archive), media_type=MEDIA_TYPES[fmt], headers=headers)
