"""``opennews tokens`` (create, list, revoke) and ``opennews audit``: the write API's keys and its log."""

from __future__ import annotations

import argparse
import sys

import orjson

from ..home import Home
from ..tokens import audit_log, create_token, list_tokens, revoke_token
from .output import print_table


def cmd_tokens(args: argparse.Namespace, home: Home) -> int:
    action = getattr(args, "action", None)
    if action is None and not home.exists():
        print("No archive here yet, so no tokens.", file=sys.stderr)
        return 0
    with home.archive() as archive:  # for writing: an archive made before tokens existed gains their tables
        if action == "create":
            token = create_token(archive, args.name, args.scope)
            print(f"Token {args.name} (scope {args.scope}) created. It is shown once, here; only its hash is kept.")
            print("Send it as: Authorization: Bearer TOKEN")
            print(token)
            return 0
        if action == "revoke":
            revoked = revoke_token(archive, args.name)
            print(f"Token {revoked.name} revoked at {revoked.revoked_at}; requests with it are now refused (401).")
            return 0
        tokens = list_tokens(archive)
    if args.json:
        sys.stdout.write(orjson.dumps([t.to_dict() for t in tokens], option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    if not tokens:
        print("No tokens yet: 'opennews tokens create --name NAME --scope ingest|withdraw' makes one.")
        return 0
    rows = [("NAME", "SCOPE", "CREATED", "LAST USED", "REVOKED")]
    rows += [(t.name, t.scope, t.created_at, t.last_used or "never", t.revoked_at or "no") for t in tokens]
    print_table(rows)
    return 0


def cmd_audit(args: argparse.Namespace, home: Home) -> int:
    if not home.exists():
        print("No archive here yet, so no writes.", file=sys.stderr)
        return 0
    with home.archive() as archive:
        entries = audit_log(archive, args.limit)
    if args.json:
        sys.stdout.write(orjson.dumps([e.to_dict() for e in entries], option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    if not entries:
        print("No writes through the API yet.")
        return 0
    for e in entries:
        what = f"{e.action} {_shown(e.target)}" if e.target else e.action
        counts = ""
        if e.added is not None:
            counts = f": added {e.added:,}, updated {e.updated:,}, unchanged {e.unchanged:,}, rejected {e.rejected:,}"
        detail = f" ({_shown(e.detail)})" if e.detail else ""
        print(f"{e.at} {e.token or '-'} from {e.client or '?'}: {what} → {e.status}{counts}{detail}")
    return 0


def _shown(text: str) -> str:
    """A client's text (a reason, an id that is none) for the operator's terminal: control
    characters escaped (``\\x1b``), so that an escape sequence in a request is read, not run."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
