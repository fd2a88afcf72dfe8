"""Write-API tokens and the audit log of every write, kept in the archive.

A token is ``on_`` followed by 32 random bytes (``secrets.token_urlsafe``, 43
characters). The prefix says what a string is: a secret scanner (GitHub's, gitleaks)
can be taught the pattern ``on_[A-Za-z0-9_-]{43}``, and an operator reading a config
file knows what leaked. Only the token's SHA-256 is stored, so a copy of the archive
(a backup, a dump of the database) gives no one write access.

Why a fast hash, where passwords need a slow one (bcrypt, scrypt, Argon2): a slow hash
exists to make guessing expensive when the secret is guessable, a word a person chose.
A token has 256 bits of entropy from the OS's random source; no dictionary helps, and
finding a preimage of SHA-256 by brute force is out of reach at any speed. A slow hash
would add tens of milliseconds to every write and nothing to safety. Because the hash
is fast and deterministic it is also the lookup key (one indexed query); the stored and
computed hashes are then compared with :func:`hmac.compare_digest`, in constant time.

A token's name is unique and stays taken after it is revoked, so that the audit log's
name always means one token.

The audit log has one line per write the API was asked for and per write it refused
once it knew which token asked (revoked, wrong scope, too many requests, a body too big
or of the wrong type): when, token, action, target, HTTP status, counts, client address.
Requests without a known token are not logged here (the access log has them): anyone
could fill the table otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass
from typing import Any, Literal

from .archive import Archive, ArchiveError, timestamp

__all__ = [
    "PREFIX",
    "SCOPES",
    "AuditEntry",
    "Scope",
    "Token",
    "audit",
    "audit_log",
    "create_token",
    "find_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
    "touch_token",
]

Scope = Literal["ingest", "withdraw"]
SCOPES: tuple[Scope, ...] = ("ingest", "withdraw")
PREFIX = "on_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Token:
    """A token as listed: never the token itself."""

    name: str
    scope: str
    created_at: str
    last_used: str | None
    revoked_at: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "revoked": self.revoked}


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256, hex (see the module's docstring for why a fast hash)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(archive: Archive, name: str, scope: str) -> str:
    """A new token named ``name``: stores its hash and returns the token, which is never shown again."""
    if scope not in SCOPES:
        raise ArchiveError(f"unknown scope {scope!r} (choose from {', '.join(SCOPES)})")
    if not _NAME.match(name):
        raise ArchiveError(f"a token's name is 1 to 64 letters, digits, dots, dashes or underscores, not {name!r}")
    token = PREFIX + secrets.token_urlsafe(32)
    with archive.transaction():
        if archive.execute("SELECT 1 FROM tokens WHERE name = ?", (name,)).fetchone():
            raise ArchiveError(f"a token named {name} exists already (names stay taken after a revoke)")
        archive.execute(
            "INSERT INTO tokens (name, scope, hash, created_at) VALUES (?, ?, ?, ?)",
            (name, scope, hash_token(token), timestamp()),
        )
    return token


def list_tokens(archive: Archive) -> list[Token]:
    rows = archive.execute(
        "SELECT name, scope, created_at, last_used, revoked_at FROM tokens ORDER BY created_at, name"
    ).fetchall()
    return [Token(*row) for row in rows]


def revoke_token(archive: Archive, name: str) -> Token:
    """Revoke ``name`` at once: the next request with it is a 401."""
    with archive.transaction():
        row = archive.execute("SELECT revoked_at FROM tokens WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise ArchiveError(f"no token named {name}")
        if row[0] is not None:
            raise ArchiveError(f"token {name} was revoked already, at {row[0]}")
        archive.execute("UPDATE tokens SET revoked_at = ? WHERE name = ?", (timestamp(), name))
    return next(t for t in list_tokens(archive) if t.name == name)


def find_token(archive: Archive, token: str) -> Token | None:
    """The token presented, if it is one of ours (revoked ones included: the caller says 401)."""
    wanted = hash_token(token)
    row = archive.execute(
        "SELECT name, scope, created_at, last_used, revoked_at, hash FROM tokens WHERE hash = ?", (wanted,)
    ).fetchone()
    if row is None or not hmac.compare_digest(row[5], wanted):
        return None
    return Token(*row[:5])


def touch_token(archive: Archive, name: str) -> None:
    archive.execute("UPDATE tokens SET last_used = ? WHERE name = ?", (timestamp(), name))


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    token: str | None
    action: str
    target: str | None
    status: int
    added: int | None
    updated: int | None
    unchanged: int | None
    rejected: int | None
    detail: str | None
    client: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def audit(
    archive: Archive,
    *,
    token: str | None,
    action: str,
    target: str | None,
    status: int,
    counts: dict[str, int] | None = None,
    detail: str | None = None,
    client: str | None = None,
) -> None:
    """Append one line to the audit log."""
    counts = counts or {}
    archive.execute(
        "INSERT INTO audit (at, token, action, target, status, added, updated, unchanged, rejected, detail, client) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            timestamp(),
            token,
            action,
            target,
            status,
            counts.get("added"),
            counts.get("updated"),
            counts.get("unchanged"),
            counts.get("rejected"),
            detail,
            client,
        ),
    )


def audit_log(archive: Archive, limit: int = 50) -> list[AuditEntry]:
    """The latest ``limit`` lines, newest first."""
    rows = archive.execute(
        "SELECT seq, at, token, action, target, status, added, updated, unchanged, rejected, detail, client "
        "FROM audit ORDER BY seq DESC LIMIT ?",
        (max(limit, 0),),
    ).fetchall()
    return [AuditEntry(*row) for row in rows]
