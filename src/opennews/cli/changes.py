"""Commands that change the archive: ingest, demo, withdraw, restore, lift.

Each calls the home, which ends by bringing every copy up to date; here is only
parsing what was asked and printing what happened.
"""

from __future__ import annotations

import argparse
import sys
import time

import orjson

from ..home import Home
from ..sync import PARTS
from .output import open_out, print_report, print_sync

__all__ = ["cmd_demo", "cmd_ingest", "cmd_lift", "cmd_restore", "cmd_withdraw", "copies_to_sync"]


def copies_to_sync(args: argparse.Namespace) -> tuple[str, ...]:
    """The copies to bring up to date afterwards (the feeds follow the index)."""
    skip = set()
    if getattr(args, "no_index", False):
        skip |= {"index", "feeds"}
    if getattr(args, "no_feeds", False):
        skip.add("feeds")
    if getattr(args, "no_dumps", False):
        skip.add("dumps")
    return tuple(p for p in PARTS if p not in skip)


def cmd_ingest(args: argparse.Namespace, home: Home) -> int:
    from ..ingest import IngestOptions
    from ..progress import progress_for
    from ..settings import LIMIT_HELP, IngestLimits

    try:
        limits = IngestLimits.from_env(**{name: getattr(args, name) for name in LIMIT_HELP})
    except ValueError as exc:
        print(f"opennews: {exc}", file=sys.stderr)
        return 2
    options = IngestOptions(batch_size=args.batch_size, default_source=args.source, format=args.format, limits=limits)
    started = time.monotonic()
    report, synced = home.ingest(
        args.paths, options=options, progress=progress_for(sys.stderr, quiet=args.quiet), parts=copies_to_sync(args)
    )
    if args.json:
        summary = {
            "run": report.run_id,
            "added": report.total("added"),
            "updated": report.total("updated"),
            "unchanged": report.total("unchanged"),
            "rejected": report.rejects_total,
            "inputs": [i.__dict__ for i in report.inputs],
            "rejects": [r.to_dict() for r in report.rejects],
        }
        sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_report(report, time.monotonic() - started, sys.stdout)
    if not (args.quiet or args.json):
        print_sync(synced, sys.stderr)
    if not report.read_anything:
        print("opennews: nothing could be read from the input", file=sys.stderr)
        return 1
    return 0


def cmd_demo(args: argparse.Namespace, home: Home) -> int:
    from ..demo import generate

    if args.output:
        out = open_out(args.output)
        try:
            for record in generate(args.articles, seed=args.seed):
                out.write(orjson.dumps(record) + b"\n")
        finally:
            if args.output != "-":
                out.close()
        print(f"Wrote {args.articles:,} demo articles to {args.output}", file=sys.stderr)
        return 0
    started = time.monotonic()
    report, synced = home.demo(args.articles, seed=args.seed)
    print_report(report, time.monotonic() - started, sys.stdout)
    print_sync(synced, sys.stderr)
    return 0 if report.read_anything else 1


def cmd_withdraw(args: argparse.Namespace, home: Home) -> int:
    synced = home.withdraw(args.id, args.reason, purge=args.purge)
    print(f"Withdrew {args.id}" + (" and purged its text" if args.purge else "") + f": {args.reason}")
    print_sync(synced, sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace, home: Home) -> int:
    synced = home.restore(args.id)
    print(f"Restored {args.id}")
    print_sync(synced, sys.stderr)
    return 0


def cmd_lift(args: argparse.Namespace, home: Home) -> int:
    synced = home.lift(args.id)
    print(f"Lifted the tombstone of {args.id}: it may be ingested again")
    print_sync(synced, sys.stderr)
    return 0
