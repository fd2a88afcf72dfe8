"""``opennews sources`` and ``opennews follow``: the outlets followed, and following them."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime

import orjson

from ..archive import Archive, ArchiveError
from ..home import Home
from .changes import copies_to_sync
from .output import print_table

__all__ = ["add_follow_commands", "cmd_follow", "cmd_sources"]


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ArchiveError(f"{name}: not a whole number: {text!r}") from None
    if value < 1:
        raise ArchiveError(f"{name}: must be 1 or more, not {value}")
    return value


def add_follow_commands(command: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``sources`` and ``follow`` sub-commands (``command`` adds one with the common options)."""
    p = command(
        "sources",
        help="the outlets followed: list, add or remove feeds, sitemaps and home pages",
        description="Without an action, list the sources followed: URL, kind, last poll, status, articles, "
        "error streak, next due. 'add URL' fetches the URL once to tell what it is (RSS/Atom, JSON Feed, news "
        "sitemap, sitemap index, or a home page whose <link rel=alternate> feeds are followed); 'remove URL' "
        "stops following it.",
    )
    p.add_argument("action", nargs="?", choices=("add", "remove"), help="add or remove a source (default: list)")
    p.add_argument("url", nargs="?", metavar="URL")
    p.add_argument("--name", help="a name for the source (add)")
    p.add_argument(
        "--every",
        type=int,
        metavar="MINUTES",
        help="minutes between two polls (add; default: $OPENNEWS_FOLLOW_EVERY or 15)",
    )
    p.add_argument("--gone", action="store_true", help="list the items whose page answered 404/410, for a look")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_sources)

    p = command(
        "follow",
        help="poll the sources and archive new articles, until stopped",
        description="Poll each source when due (its --every, longer after errors), fetch each new item's page "
        "and read its full text, and archive it through the same path as 'opennews ingest' (one run per poll "
        "cycle); recent articles are checked again a few times in their first 48 hours so edits become versions. "
        "Ctrl-C or SIGTERM ends it cleanly. --once polls every source now (but those backing off after a "
        "failure) and exits: non-zero when no source could be polled at all (for cron).",
    )
    p.add_argument("--once", action="store_true", help="poll every source now (but those backing off), then exit")
    p.add_argument(
        "--max-new",
        type=int,
        metavar="N",
        help="new items fetched per source per poll (default: $OPENNEWS_FOLLOW_MAX_NEW or 100)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    # A follower beside web nodes that share a PostgreSQL archive needs no copies of its own: each node syncs its home.
    p.add_argument("--no-index", action="store_true", help="do not update the search index (nor the static feeds)")
    p.add_argument("--no-feeds", action="store_true", help="do not rewrite the static feeds in feeds/")
    p.add_argument("--no-dumps", action="store_true", help="do not rebuild the changed dump files")
    p.set_defaults(func=cmd_follow)


def _short(moment: str | None) -> str:
    if not moment:
        return "-"
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d %H:%M")


def cmd_sources(args: argparse.Namespace, home: Home) -> int:
    from ..follow.follow import make_fetcher
    from ..follow.items import gone_items, item_counts
    from ..follow.sources import DEFAULT_EVERY, add_source, allowed_for, list_sources, remove_source

    if args.action and not args.url:
        raise ArchiveError(f"'opennews sources {args.action}' needs a URL")
    if args.action == "add":
        every = args.every or _env_int("OPENNEWS_FOLLOW_EVERY", DEFAULT_EVERY)
        with home.archive() as archive:
            fetcher = make_fetcher(allowed_for_new(args.url, allowed_for(archive)))
            try:
                added = add_source(archive, fetcher, args.url, name=args.name, every=every)
            finally:
                getattr(fetcher, "close", lambda: None)()
        for s in added:
            print(f"following {s.url} ({s.kind}{', found on ' + s.via if s.via else ''}), every {s.every_minutes} min")
        return 0
    if args.action == "remove":
        with home.archive() as archive:
            count = remove_source(archive, args.url)
        print(f"stopped following {args.url}" + (f" and {count - 1} feed(s) found on it" if count > 1 else ""))
        return 0
    if not home.exists():
        print("no sources yet; add one with 'opennews sources add URL'", file=sys.stderr)
        return 0
    with Archive.open(home.settings.archive_target) as archive:  # the follow tables may be new to it
        if args.gone:
            gone = [g.to_dict() for g in gone_items(archive)]
            if args.json:
                sys.stdout.write(orjson.dumps(gone, option=orjson.OPT_INDENT_2).decode() + "\n")
            else:
                for g in gone:
                    print(
                        f"{g['url']}  gone since {_short(g['last_checked'])}: {g['last_error']} (id {g['article_id']})"
                    )
            return 0
        sources = list_sources(archive)
        counts = item_counts(archive)
    rows = [{**s.to_dict(), "gone": counts.get(s.url, {}).get("gone", 0)} for s in sources]
    if args.json:
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    if not rows:
        print("no sources yet; add one with 'opennews sources add URL'")
        return 0
    header = ("URL", "KIND", "LAST POLL", "STATUS", "ARTICLES", "ERRORS", "GONE", "NEXT DUE")
    table = [header] + [
        (
            r["url"],
            r["kind"]
            + (" (its feeds are polled)" if r["kind"] == "homepage" else " via home page" if r["via"] else ""),
            _short(r["last_poll"]),
            (r["last_status"] or "-")
            + (f" ({r['last_error']})" if r["error_streak"] and r["last_error"] != r["last_status"] else ""),
            f"{r['articles']:,}",
            str(r["error_streak"]),
            str(r["gone"]),
            _short(r["next_due"]) if r["kind"] != "homepage" else "-",
        )
        for r in rows
    ]
    print_table(table)
    return 0


def allowed_for_new(url: str, known: Callable[[str], bool]) -> Callable[[str], bool]:
    """While adding a source, its own site may be fetched too (it is not in the table yet)."""
    from ..follow.sources import named_by

    def allowed(candidate: str) -> bool:
        return named_by(candidate, url) or known(candidate)

    return allowed


def cmd_follow(args: argparse.Namespace, home: Home) -> int:
    from ..follow.follow import CycleReport, FollowOptions, make_fetcher
    from ..follow.signals import stop_on_request

    options = FollowOptions(max_new=args.max_new or _env_int("OPENNEWS_FOLLOW_MAX_NEW", 100))
    stop = threading.Event()
    polled: list[CycleReport] = []

    def said(report: CycleReport) -> None:
        polled.append(report)
        if args.quiet or report.run is None:
            return
        run = report.run
        print(
            f"run {run.run_id}: {len(report.sources)} source(s) polled, added {run.total('added'):,}, "
            f"updated {run.total('updated'):,}, rejected {run.rejects_total:,}",
            flush=True,
        )
        for s in report.sources:
            print(
                f"    {s.url}: {s.status}, {s.new} new, {s.rechecked} re-checked"
                + (f" — {s.error}" if s.error else ""),
                flush=True,
            )

    with stop_on_request(stop):
        home.follow(
            make_fetcher,  # type: ignore[arg-type]
            stop=stop,
            once=args.once,
            options=options,
            after_cycle=said,
            parts=copies_to_sync(args),
        )
    if args.once:
        report = polled[0] if polled else None
        if report is None or not report.sources:
            from ..follow.sources import list_sources

            with home.archive(readonly=True) as archive:
                waiting = [s for s in list_sources(archive) if s.kind != "homepage"]
            if waiting:  # every one backing off: not a failure of this run
                soonest = min(s.next_due for s in waiting)
                print(f"opennews: every source is backing off after failures; the next poll is due {soonest}")
                return 0
            print("opennews: no sources to poll; add one with 'opennews sources add URL'", file=sys.stderr)
            return 1
        if not report.polled:
            print("opennews: no source could be polled", file=sys.stderr)
            return 1
    return 0
