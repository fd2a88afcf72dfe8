"""Static files under content-hashed names, cached by browsers for a year.

``style.css`` is served as ``/static/style.<hash>.css``: a changed file gets a new
name, so a long ``immutable`` lifetime is safe and a deploy is seen at once. The
files are few and small, so they are read and hashed once, at start-up.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from ..conditional import not_modified

__all__ = ["Assets"]

STATIC_DIR = Path(__file__).parent / "static"
_IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class _Asset:
    body: bytes
    media_type: str
    etag: str


class Assets:
    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self._by_url: dict[str, _Asset] = {}
        self._urls: dict[str, str] = {}
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            name = path.relative_to(directory).as_posix()
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:12]
            stem, dot, suffix = name.rpartition(".")
            hashed = f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if media_type.startswith("text/") or media_type.endswith(("+xml", "/javascript")):
                media_type += "; charset=utf-8"
            self._by_url[hashed] = _Asset(body, media_type, f'"{digest}"')
            self._urls[name] = f"/static/{hashed}"

    def url(self, name: str) -> str:
        """The hashed URL of a static file (a KeyError for a missing file shows up in tests)."""
        return self._urls[name]

    async def serve(self, request: Request) -> Response:
        asset = self._by_url.get(request.path_params["path"])
        if asset is None:
            return Response("Not found\n", status_code=404, media_type="text/plain; charset=utf-8")
        headers = {"cache-control": _IMMUTABLE, "etag": asset.etag}
        if not_modified((asset.etag,), 0, request.headers.get("if-none-match"), None):
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)
