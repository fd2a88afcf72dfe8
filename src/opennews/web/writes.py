"""The write API: articles pushed in, withdrawn and restored, by token.

``POST /api/articles`` takes NDJSON (``application/x-ndjson``) or a JSON array
(``application/json``) and reads it exactly as ``opennews ingest`` reads a file: the
same readers, validation, bounds, dedupe and change log (:class:`opennews.ingest.Run`,
command ``api``). It answers 200 whenever the body was read, with the counts and each
reject (place and reason; the first :data:`KEPT_REJECTS`, all of them in the rejects
file): a batch with bad records in it keeps its good ones, as ``ingest`` does, so a
client reads the body rather than a status (207 belongs to WebDAV and says no more).
``POST /api/articles/{id}/withdraw`` (a JSON ``{"reason": ...}``) and ``/restore`` take
an article down and bring it back, as ``opennews withdraw`` and ``restore`` do.

Checks, in order, each an error in the app's JSON shape (raised as ``HTTPException``:
the app maps errors in one place):
401 without a token (``WWW-Authenticate: Bearer realm="opennews"``, with
``error="invalid_token"`` when one was given but is unknown or revoked); 403 for a token
without the operation's scope; 429 past the token's rate (``Retry-After``); 415 for a
body of another type; 413 for a body over the cap, counted as it streams, whatever
Content-Length said. Every write and every refusal once the token is known goes in the
audit log (opennews.tokens).

The serving process otherwise only reads (web/backend.py opens the archive read-only);
each write opens its own connection for writing, off the event loop, like a concurrent
``opennews ingest`` would (SQLite in WAL mode: readers never wait for it; writers wait
on each other up to the busy timeout). The write does not touch the index, feeds or
dumps: the server's follower (web/follow.py) sees the change log move within half a
second and brings every copy up to date, as for any other process's change; the app's
own answers follow the archive's position at once (Backend.state), so a withdrawn
article is a 410 on the API and the pages as soon as the answer is sent, and gone from the
index, static feeds and dumps a moment later (``opennews withdraw`` waits for those; a
request does not hold its worker thread for a sync). Validation runs in
the request's thread (``workers=1``): forking validator processes from a threaded
server is unsafe, and a request's batch is small next to a file.

The rate limit is a token bucket per token, per worker process: with ``--workers N`` a
token may do up to N times the rate. Good enough to stop a runaway scraper; a shared
limit would need shared state the app does not otherwise have.
"""

from __future__ import annotations

import io
import math
import threading
import time
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ..archive import Archive, ArchiveError
from ..ingest import IngestOptions, Run
from ..ingest.reading import read_one
from ..settings import IngestLimits, Settings, WriteLimits, format_size
from ..tokens import Token, audit, find_token, touch_token
from .api import JSONResponse
from .params import article_id

__all__ = ["KEPT_REJECTS", "RateLimiter", "Writes"]

#: Rejects listed in an answer (the rejects file has every one).
KEPT_REJECTS = 1000
_TYPES = {"application/x-ndjson": "ndjson", "application/json": "json"}
_REALM = 'Bearer realm="opennews"'


class RateLimiter:
    """A token bucket per key: ``rate`` requests per minute, bursts of up to a minute's worth."""

    def __init__(self, rate: float, clock: Any = time.monotonic) -> None:
        self.rate = rate
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 if the request may go; else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        per_second = self.rate / 60.0
        depth = max(self.rate, 1.0)
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (depth, now))
            tokens = min(depth, tokens + (now - then) * per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / per_second


def _no_store(response: Response) -> Response:
    response.headers["cache-control"] = "no-store"
    del response.headers["access-control-allow-origin"]  # no browser on another site writes here
    return response


class Writes:
    def __init__(self, settings: Settings, limits: WriteLimits | None = None) -> None:
        self.settings = settings
        self.limits = limits or WriteLimits.from_env()
        self.rate = RateLimiter(self.limits.rate)
        self.ingest_limits = IngestLimits.from_env()  # the operator's OPENNEWS_MAX_… bound a request as a file

    # -- the archive, opened for writing, one connection per call, in a worker thread -----

    def _archive(self) -> Archive:
        return Archive.open(self.settings.archive_target)

    def _find(self, presented: str) -> Token | None:
        with self._archive() as archive:
            return find_token(archive, presented)

    def _audit(self, token: str | None, action: str, target: str | None, status: int, **more: Any) -> None:
        with self._archive() as archive:
            audit(archive, token=token, action=action, target=target, status=status, **more)

    async def _refuse(
        self,
        request: Request,
        token: Token | None,
        action: str,
        target: str | None,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> HTTPException:
        if token is not None:
            client = request.client.host if request.client else None
            await run_in_threadpool(self._audit, token.name, action, target, status, detail=message, client=client)
        return HTTPException(status, message, headers={"cache-control": "no-store", **(headers or {})})

    # -- the checks every write goes through ----------------------------------------------

    async def _authorize(self, request: Request, scope: str, action: str, target: str | None) -> Token:
        header = request.headers.get("authorization", "")
        kind, _, presented = header.partition(" ")
        presented = presented.strip()
        if kind.lower() != "bearer" or not presented:
            raise await self._refuse(
                request, None, action, target, 401, "a token is needed: Authorization: Bearer TOKEN",
                {"www-authenticate": _REALM},
            )  # fmt: skip
        token = await run_in_threadpool(self._find, presented)
        if token is None or token.revoked:
            raise await self._refuse(
                request,
                token,
                action,
                target,
                401,
                "this token was revoked" if token else "this token is not valid",
                {"www-authenticate": f'{_REALM}, error="invalid_token"'},
            )
        if token.scope != scope:
            raise await self._refuse(
                request, token, action, target, 403, f"this token's scope is {token.scope}; this needs {scope}"
            )
        wait = self.rate.take(token.name)
        if wait:
            seconds = max(1, math.ceil(wait))
            raise await self._refuse(
                request,
                token,
                action,
                target,
                429,
                f"more than {self.limits.rate:g} requests a minute with this token; try again in {seconds} s",
                {"retry-after": str(seconds)},
            )
        return token

    async def _body(self, request: Request, token: Token, action: str, target: str | None, types: set[str]) -> bytes:
        """The body, of one of ``types``, no longer than the cap: counted as it arrives."""
        media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media not in types:
            wanted = " or ".join(sorted(types))
            raise await self._refuse(request, token, action, target, 415, f"send {wanted}, not {media or 'nothing'}")
        cap = self.limits.max_bytes
        too_big = f"the body is over {format_size(cap)} (OPENNEWS_MAX_WRITE_BYTES); send it in smaller batches"
        declared = request.headers.get("content-length", "")
        if cap and declared.isdigit() and int(declared) > cap:
            raise await self._refuse(request, token, action, target, 413, too_big)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if cap and size > cap:
                    raise await self._refuse(request, token, action, target, 413, too_big)
                chunks.append(chunk)
        except ClientDisconnect:
            raise await self._refuse(request, token, action, target, 400, "the client went away mid-body") from None
        return b"".join(chunks)

    # -- POST /api/articles ----------------------------------------------------------------

    def _ingest(self, token: Token, fmt: str, body: bytes, client: str | None) -> dict[str, Any]:
        options = IngestOptions(format=fmt, workers=1, limits=self.ingest_limits)
        with self._archive() as archive:
            with Run(archive, rejects_path=self.settings.rejects_path, options=options, command="api") as run:
                run.kept_rejects = KEPT_REJECTS
                info = read_one(run, f"token {token.name}", io.BytesIO(body))
                report = run.finish()
            counts = {k: getattr(info, k) for k in ("added", "updated", "unchanged", "rejected")}
            with archive.transaction():
                touch_token(archive, token.name)
                audit(
                    archive,
                    token=token.name,
                    action="ingest",
                    target=f"run {report.run_id}",
                    status=200,
                    counts=counts,
                    detail=f"{len(body):,} bytes of {fmt}",
                    client=client,
                )
        return {
            "run": report.run_id,
            **counts,
            "rejects": [{"where": r.where, "reason": r.reason} for r in report.rejects],
        }

    async def ingest(self, request: Request) -> Response:
        token = await self._authorize(request, "ingest", "ingest", None)
        body = await self._body(request, token, "ingest", None, set(_TYPES))
        fmt = _TYPES[request.headers["content-type"].partition(";")[0].strip().lower()]
        client = request.client.host if request.client else None
        answer = await run_in_threadpool(self._ingest, token, fmt, body, client)
        return _no_store(JSONResponse(answer))

    # -- POST /api/articles/{id}/withdraw and /restore ----------------------------------------

    def _change(self, token: Token, action: str, wanted: str, reason: str | None, client: str | None) -> int:
        """Withdraw or restore; the HTTP status (200, 404 no such article, 409 not possible now)."""
        with self._archive() as archive:
            record = archive.get_record(wanted) is not None
            tomb = archive.withdrawal(wanted)
            if action == "withdraw":
                status = 409 if tomb else 200 if record else 404
            else:
                status = 404 if tomb is None and not record else 409 if tomb is None or tomb["purged"] else 200
            if status == 200:
                try:
                    if action == "withdraw":
                        archive.withdraw(wanted, reason or "")
                    else:
                        archive.restore(wanted)
                except ArchiveError:  # another request (or the CLI) got there first, between the look and the write
                    status = 409
            with archive.transaction():
                touch_token(archive, token.name)
                audit(
                    archive, token=token.name, action=action, target=wanted, status=status, detail=reason, client=client
                )
        return status

    async def _withdraw_or_restore(self, request: Request, action: str) -> Response:
        raw = request.path_params["id"]
        wanted = article_id(raw)
        token = await self._authorize(request, "withdraw", action, wanted or raw)
        reason = None
        if action == "withdraw":
            body = await self._body(request, token, action, wanted or raw, {"application/json"})
            try:
                given = orjson.loads(body)
            except orjson.JSONDecodeError:
                given = None
            reason = given.get("reason") if isinstance(given, dict) else None
            if not isinstance(reason, str) or not reason.strip():
                raise await self._refuse(
                    request, token, action, wanted or raw, 400, 'send {"reason": "why it is taken down"}'
                )
            reason = reason.strip()
        if wanted is None:
            raise await self._refuse(request, token, action, raw, 404, "no article with this id")
        client = request.client.host if request.client else None
        status = await run_in_threadpool(self._change, token, action, wanted, reason, client)
        if status == 404:
            raise HTTPException(404, "no article with this id", headers={"cache-control": "no-store"})
        if status == 409:
            why = "already withdrawn" if action == "withdraw" else "not withdrawn, or purged (see 'opennews lift')"
            raise HTTPException(409, f"article {wanted} is {why}", headers={"cache-control": "no-store"})
        answer: dict[str, Any] = {"id": wanted, "withdrawn": action == "withdraw"}
        if reason is not None:
            answer["reason"] = reason
        return _no_store(JSONResponse(answer))

    async def withdraw(self, request: Request) -> Response:
        return await self._withdraw_or_restore(request, "withdraw")

    async def restore(self, request: Request) -> Response:
        return await self._withdraw_or_restore(request, "restore")
