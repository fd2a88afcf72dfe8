"""What a fetch gives back (:class:`Fetched`) and how it fails (:class:`FetchError`).

Only the types the following code needs; the polite fetcher itself lives here too.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FetchError", "Fetched"]


@dataclass(frozen=True)
class Fetched:
    url: str  # final URL after redirects
    status: int  # 200, or 304 when not_modified
    body: bytes  # b"" when not modified
    content_type: str
    etag: str | None
    last_modified: str | None
    not_modified: bool


class FetchError(Exception):
    """One clear reason a URL could not be had; never a traceback for the operator."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        gone: bool = False,
        transient: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.gone = gone
        self.transient = transient
