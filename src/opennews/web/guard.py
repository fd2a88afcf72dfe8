"""The path every route can trust: UTF-8 text without control characters, or a 400 before any route runs.

uvicorn percent-decodes the path leniently (bad UTF-8 becomes U+FFFD) and lets
``%00`` through, and routes take their parameters from it: a feed named by a path
holding NUL would reach the XML writer, which refuses it (an exception, a 500).
The query string is held to the same rule where it is read (``params.Query``); the
path is held to it here, once, for every route, including those added later.

A plain ASGI middleware, outside Starlette's exception handling: it does not raise,
it answers with ``refuse`` (the app's own 400, JSON under /api/ and a page elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .i18n import N_
from .params import CONTROL, BadRequest

__all__ = ["PathGuard", "path_problem"]


def path_problem(scope: Scope) -> BadRequest | None:
    """What is wrong with the request's path, if anything."""
    raw = scope.get("raw_path")
    if raw is None:  # a server that does not give the raw path: what it decoded is all there is
        raw = scope["path"].encode("utf-8", "surrogatepass")
    try:
        path = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return BadRequest(N_("The address contains bytes that are not valid UTF-8 text."))
    if CONTROL.search(path):
        return BadRequest(N_("The address contains a control character."))
    return None


class PathGuard:
    def __init__(self, app: ASGIApp, refuse: Callable[[Request, BadRequest], Response]) -> None:
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = path_problem(scope)
            if problem is not None:
                await self.refuse(Request(scope, receive), problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)
