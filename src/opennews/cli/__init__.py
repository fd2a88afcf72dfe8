"""The ``opennews`` command: ingest, inspect, export and curate an archive.

A thin layer: it parses the command line, calls the :class:`~opennews.home.Home`
and prints what happened. Every command works on one home folder (``--home``, before
or after the command; ``OPENNEWS_HOME``; default: the current directory). Progress
goes to stderr, results to stdout, so ``opennews export > dump.ndjson`` and
``opennews stats --json | jq`` behave.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence

from .. import __version__
from ..archive import ArchiveError
from ..home import Home
from ..locks import Busy
from ..settings import LIMIT_HELP, IngestLimits, Settings, env_name, format_size, parse_limit
from ..sync import PARTS
from .changes import cmd_demo, cmd_ingest, cmd_lift, cmd_restore, cmd_withdraw
from .copies import cmd_dumps, cmd_feeds, cmd_index, cmd_sync, cmd_verify, cmd_verify_dumps
from .following import add_follow_commands
from .output import phases_for
from .reading import cmd_check, cmd_export, cmd_history, cmd_runs, cmd_search, cmd_serve, cmd_show, cmd_stats
from .tokens import cmd_audit, cmd_tokens

__all__ = ["build_parser", "main"]

#: The reader names ``--format`` accepts (checked against the readers when used; the
#: readers themselves are imported only by the commands that read, so that exports and
#: other commands start fast).
FORMAT_NAMES = "ndjson, json, feed, html, headers, keyvalue, text"
DATABASE_HELP = (
    "the archive in a PostgreSQL database shared by several machines, postgresql://user@host:port/db "
    "(default: $OPENNEWS_DATABASE_URL, else the SQLite file in the home)"
)
HOME_HELP = "folder holding the archive, index/, feeds/, dumps/ (default: $OPENNEWS_HOME or .)"


def _format(value: str) -> str:
    from ..ingest.readers import FORMATS

    if value not in FORMATS:
        raise argparse.ArgumentTypeError(f"invalid format {value!r} (choose from {', '.join(FORMATS)})")
    return value


def _header_timeout(value: str) -> float:
    """``--header-timeout``: a negative or NaN deadline would silently be no deadline at all."""
    from ..web.server_internals import check_header_timeout

    try:
        return check_header_timeout(float(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds, 0 or more") from None


def _size(value: str) -> int:
    from ..settings import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _limit_options(p: argparse.ArgumentParser) -> None:
    """One ``--max-…`` option per ingest limit; sizes take units (8M, 64G); 0 turns one off."""
    group = p.add_argument_group(
        "limits", "what one input may make the ingest do; past a bound, the rest of that input is rejected"
    )
    defaults = IngestLimits()
    for name, what in LIMIT_HELP.items():
        default = getattr(defaults, name)
        shown = (
            format_size(default)
            if name.endswith("_bytes")
            else f"{default:g}"
            if name == "max_ratio"
            else f"{default:,}"
        )

        def parse(text: str, name: str = name) -> float:
            try:
                return parse_limit(name, text)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None

        group.add_argument(
            f"--{name.replace('_', '-')}",
            type=parse,
            metavar="N",
            help=f"{what} (default: ${env_name(name)} or {shown})",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opennews",
        description="An open-data archive of Vietnamese news: ingest, search, feeds and dumps.",
        epilog="Data lives in one home folder: --home, else $OPENNEWS_HOME, else the current directory.",
    )
    parser.add_argument("--version", action="version", version=f"opennews {__version__}")
    parser.add_argument("--home", help=HOME_HELP)
    parser.add_argument("--database", metavar="URL", help=DATABASE_HELP)
    # --home and --database are also accepted after the command ("opennews stats --home H"); given there, they win.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", default=argparse.SUPPRESS, help=HOME_HELP)
    common.add_argument("--database", metavar="URL", default=argparse.SUPPRESS, help=DATABASE_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    command = functools.partial(sub.add_parser, parents=[common])

    p = command(
        "ingest",
        help="read news files into the archive (NDJSON, JSON, RSS/Atom, HTML, page text…)",
        description="Read files, folders (recursively) or - (stdin) into the archive. Formats are detected "
        "by content; gzip/bz2/xz are undone. Bad records are rejected with a reason and kept in rejects.ndjson. "
        "Exits non-zero only when nothing could be read.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="file, folder, or - for stdin")
    p.add_argument("--source", help="outlet to record for articles with no source and no URL")
    p.add_argument(
        "--format", type=_format, help=f"skip detection and read every input as this format ({FORMAT_NAMES})"
    )
    p.add_argument("--batch-size", type=int, default=500, help="articles per transaction (default 500)")
    _limit_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--no-index", action="store_true", help="do not update the search index (nor the static feeds) afterwards"
    )
    p.add_argument("--no-feeds", action="store_true", help="do not rewrite the static feeds in feeds/ afterwards")
    p.add_argument(
        "--base-url",
        help="site address for links in static feeds (default: $OPENNEWS_BASE_URL or http://127.0.0.1:8000)",
    )
    p.add_argument("--no-dumps", action="store_true", help="do not rebuild the changed dump files afterwards")
    p.set_defaults(func=cmd_ingest)

    p = command(
        "feeds",
        help="write the static feeds into feeds/",
        description="Write RSS, Atom and JSON Feed files of the latest articles, of every source and every "
        "category, and feeds.opml, into the home's feeds/ folder (laid out like the /feeds/ URLs, each with a "
        ".gz twin), so nginx or a CDN can serve them. Only files whose content changes are rewritten. "
        "Ingest does this by itself after updating the index.",
    )
    p.add_argument("--base-url", help="site address for links (default: $OPENNEWS_BASE_URL or http://127.0.0.1:8000)")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.set_defaults(func=cmd_feeds)

    p = command("stats", help="what the archive holds", description="Counts, sources, years and the last run.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_stats)

    p = command(
        "export",
        help="write every article as NDJSON (the dump format)",
        description="Stream every current article, one JSON record per line, in constant memory. "
        "Re-ingesting the output elsewhere gives the same ids and records.",
    )
    p.add_argument("-o", "--output", default="-", help="file to write (.gz to compress; default: stdout)")
    p.add_argument("--format", choices=("ndjson", "json", "csv"), default="ndjson", help="default ndjson")
    p.add_argument("--since", help="only what was ingested, changed or withdrawn after this ISO 8601 moment")
    p.add_argument("--cursor", type=int, help="only changes after this cursor (printed by the previous export)")
    p.add_argument("--q", help="only articles matching this search (newest first)")
    p.add_argument("--source", dest="filter_source", help="only this outlet")
    p.add_argument("--category", help="only this section")
    p.add_argument("--from", dest="date_from", help="published on or after (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", help="published on or before (YYYY-MM-DD)")
    p.set_defaults(func=cmd_export)

    p = command(
        "dumps",
        help="write the downloadable dump files (monthly NDJSON, snapshot, CSV, manifest)",
        description="Bring dumps/ up to date: one gzip NDJSON file per month of publication (zstd too when "
        "installed), a full snapshot as NDJSON, CSV and Parquet (with pyarrow), withdrawals, manifest.json "
        "and datapackage.json. Months whose records did not change are not rewritten. Ingest does this by itself.",
    )
    p.add_argument("--force", action="store_true", help="rewrite every file")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_dumps)

    p = command(
        "verify-dumps",
        help="check downloaded dump files against their manifest",
        description="Check every file listed in DIR/manifest.json: present, same size, same SHA-256; "
        "--deep also decompresses and counts records. Exits 1 on any problem.",
    )
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--deep", action="store_true", help="also decompress and count the records")
    p.set_defaults(func=cmd_verify_dumps)

    p = command(
        "demo",
        help="generate a synthetic Vietnamese corpus and ingest it",
        description="Generate realistic synthetic Vietnamese news (several outlets, categories, years, both "
        "tone-mark styles) so a fresh install has something to search.",
    )
    p.add_argument("--articles", type=int, default=2000, help="how many articles (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same corpus)")
    p.add_argument("--output", help="write NDJSON to this file instead of ingesting")
    p.set_defaults(func=cmd_demo)

    p = command(
        "withdraw",
        help="take an article down, keeping a tombstone",
        description="Take an article down everywhere (e.g. a legal takedown): search, feeds, dumps, sitemaps "
        "and the API, before the command returns. A tombstone (id, time, reason) tells feed and dump consumers "
        "it is gone; re-ingesting will not bring it back.",
    )
    p.add_argument("id")
    p.add_argument("--reason", required=True, help="why (kept in the tombstone)")
    p.add_argument("--purge", action="store_true", help="also delete every stored copy of the text")
    p.set_defaults(func=cmd_withdraw)

    p = command(
        "restore",
        help="undo a withdrawal",
        description="Bring back a withdrawn (not purged) article everywhere: archive, index, feeds, dumps.",
    )
    p.add_argument("id")
    p.set_defaults(func=cmd_restore)

    p = command(
        "lift",
        help="remove a purged article's tombstone so it may be ingested again",
        description="A purged article's tombstone keeps ingest from bringing it back. Lifting it lets the "
        "article be ingested afresh (as version 1); the withdrawal disappears from feeds and dumps.",
    )
    p.add_argument("id")
    p.set_defaults(func=cmd_lift)

    p = command(
        "sync",
        help="bring the index, static feeds and dumps up to date with the archive",
        description="Every copy derived from the archive (search index, static feeds, dump files) records the "
        "change-log position it reflects; this brings each one up to the archive's. Every command that changes "
        "the archive does it by itself, and a running server does it for changes made elsewhere.",
    )
    p.add_argument("parts", nargs="*", metavar="PART", help=f"{', '.join(PARTS)} (default: all)")
    p.add_argument("--if-idle", action="store_true", help="do nothing if another sync is running (it does the work)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--json", action="store_true", help="what was done, as JSON")
    p.set_defaults(func=cmd_sync)

    p = command("show", help="print one article as JSON", description="Print the current (or an older) record.")
    p.add_argument("id")
    p.add_argument("--version", type=int, help="an earlier version number (see 'history')")
    p.set_defaults(func=cmd_show)

    p = command("history", help="list an article's versions", description="Every stored version, oldest first.")
    p.add_argument("id")
    p.set_defaults(func=cmd_history)

    p = command("runs", help="the ingestion-run log", description="Recent runs: when, which inputs, counts.")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)

    p = command(
        "index",
        help="bring the search index up to date",
        description="Apply the archive's changes since the last update to the search index (ingest does this "
        "by itself). --rebuild indexes everything into a fresh index and swaps it in; searches keep working.",
    )
    p.add_argument("--rebuild", action="store_true", help="rebuild from scratch")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_index)

    p = command(
        "verify",
        help="check that the index and the archive agree",
        description="Compare ids, counts and content hashes of the index with the archive; says what to do "
        "when they differ. Exits 1 when they do.",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)

    p = command(
        "search",
        help="search the archive",
        description='Search as a reader would: words (all must match), "phrases", OR, -exclude, title:, '
        "source:, category:, author:, from:/to: dates. Accents optional: 'ha noi' finds 'Hà Nội'. "
        "--batch reads one query per line from stdin and writes one JSON object per line.",
    )
    p.add_argument("query", nargs="*", help="the query (omit with --batch)")
    p.add_argument("--json", action="store_true", help="the whole response as JSON")
    p.add_argument("--batch", action="store_true", help="queries from stdin, JSON lines out")
    p.add_argument("--limit", type=int, default=10, help="results per page (max 100)")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--sort", choices=("relevance", "newest", "oldest"), default="relevance")
    p.add_argument("--source", help="only this outlet")
    p.add_argument("--category", help="only this section")
    p.set_defaults(func=cmd_search)

    p = command("check", help="check the archive's integrity", description="SQLite integrity and tombstones.")
    p.set_defaults(func=cmd_check)

    p = command(
        "serve",
        help="serve the search pages and the JSON API over HTTP",
        description="Run the web app with uvicorn: search and article pages (Vietnamese, or English), their "
        "JSON twins under /api/, OpenSearch, sitemap, /healthz. Builds the search index first if it is missing; "
        "index updates made while serving are picked up without a restart.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--demo", type=int, default=0, metavar="N", help="if the archive is empty, first create N demo articles"
    )
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument("--no-access-log", dest="access_log", action="store_false", help="do not log every request")
    p.add_argument(
        "--header-timeout",
        type=_header_timeout,
        default=5.0,
        metavar="SECONDS",
        help="close a connection whose request line and headers take longer than this (default 5; 0: never)",
    )
    p.add_argument(
        "--max-write-bytes",
        type=_size,
        metavar="SIZE",
        help="cap on one write request's body (default: $OPENNEWS_MAX_WRITE_BYTES or 16M; 0: none)",
    )
    p.add_argument(
        "--write-rate",
        type=float,
        metavar="N",
        help="write requests per minute per token, per worker (default: $OPENNEWS_WRITE_RATE or 60; 0: no limit)",
    )
    p.set_defaults(func=cmd_serve)

    p = command(
        "tokens",
        help="the write API's tokens: list, create, revoke",
        description="Tokens let a program write through the API (POST /api/articles with scope ingest; "
        "withdraw and restore with scope withdraw). Only a hash of each is kept: a token is shown once, "
        "when created. Without an action, lists them (never the tokens themselves).",
    )
    p.add_argument("--json", action="store_true", help="the list as JSON")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    a = actions.add_parser(
        "create", parents=[common], help="make a new token; its last line of output is the token alone"
    )
    a.add_argument("--name", required=True, help="what the token is for (unique; shown in the audit log)")
    a.add_argument("--scope", required=True, choices=("ingest", "withdraw"), help="what it may do")
    a = actions.add_parser("revoke", parents=[common], help="refuse a token from now on")
    a.add_argument("name")
    p.set_defaults(func=cmd_tokens)

    p = command(
        "audit",
        help="the write API's audit log",
        description="Every write through the API, and every write refused to a known token: when, token, "
        "what, status, counts, client address. Newest first.",
    )
    p.add_argument("--limit", type=int, default=50, help="lines shown (default 50)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit)

    add_follow_commands(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    quiet = bool(getattr(args, "quiet", False) or getattr(args, "json", False))
    phases = phases_for(sys.stderr, quiet=quiet)
    try:
        settings = Settings.from_env(args.home, database=args.database)
    except ValueError as exc:
        print(f"opennews: {exc}", file=sys.stderr)
        return 2
    home = Home(settings, base_url=getattr(args, "base_url", None), phases=phases)
    try:
        return int(args.func(args, home))
    except (ArchiveError, Busy) as exc:
        print(f"opennews: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP during an ingest (see ingest.Stopped)
        print("opennews: interrupted; every committed batch is safe", file=sys.stderr)
        return 128 + getattr(exc, "signum", 2)
    finally:
        phases.close()


if __name__ == "__main__":
    raise SystemExit(main())
