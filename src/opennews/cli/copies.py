"""Commands on the copies derived from the archive: sync, index, verify, feeds, dumps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from ..home import Home
from ..sync import PARTS, chosen
from .output import print_sync

__all__ = ["cmd_dumps", "cmd_feeds", "cmd_index", "cmd_sync", "cmd_verify", "cmd_verify_dumps"]


def cmd_sync(args: argparse.Namespace, home: Home) -> int:
    try:
        parts = chosen(args.parts or None)
    except ValueError as exc:
        print(f"opennews sync: {exc} (choose from {', '.join(PARTS)})", file=sys.stderr)
        return 2
    report = home.sync(parts, wait=not args.if_idle)
    if args.json:
        done = [p.__dict__ for p in report.parts]
        sys.stdout.write(orjson.dumps({"target": report.target, "busy": report.busy, "parts": done}).decode() + "\n")
    elif not args.quiet:
        print_sync(report, sys.stderr, idle="Every copy reflects the archive")
    return 0


def cmd_index(args: argparse.Namespace, home: Home) -> int:
    if args.rebuild:
        report = home.rebuild_index()
        if not args.quiet:
            print(
                f"Index rebuilt: {report.indexed:,} indexed, {report.deleted:,} removed in {report.seconds:.1f} s "
                f"(change {report.last_seq})",
                file=sys.stderr,
            )
        return 0
    synced = home.sync(("index",))
    if not args.quiet:
        print_sync(synced, sys.stderr, idle="Index is up to date")
    return 0


def cmd_verify(args: argparse.Namespace, home: Home) -> int:
    with home.archive(readonly=True) as archive:
        report = home.indexer(archive).verify()
    if args.json:
        sys.stdout.write(orjson.dumps(report.__dict__ | {"ok": report.ok}).decode() + "\n")
    else:
        print(f"archive: {report.archive_count:,} articles · index: {report.index_count:,} documents")
        for name, ids in (
            ("missing from the index", report.missing),
            ("in the index but not the archive", report.extra),
            ("indexed from an older version", report.stale),
        ):
            if ids:
                print(f"  {len(ids):,} {name}: {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''}")
        if report.ok:
            print("Index and archive agree.")
        else:
            print("They differ: run 'opennews index' to catch up, or 'opennews index --rebuild' to start afresh.")
    return 0 if report.ok else 1


def cmd_feeds(args: argparse.Namespace, home: Home) -> int:
    synced = home.sync(("index", "feeds"), force_feeds=True)
    if not args.quiet:
        print_sync(synced, sys.stderr)
    return 0


def cmd_dumps(args: argparse.Namespace, home: Home) -> int:
    synced = home.sync(("dumps",), force_dumps=args.force)
    if not args.quiet:
        print_sync(synced, sys.stderr)
    return 0


def cmd_verify_dumps(args: argparse.Namespace, home: Home) -> int:
    from ..dumps import verify_dumps

    report = verify_dumps(Path(args.directory), deep=args.deep)
    for name in report.checked:
        print(f"ok       {name}")
    for problem in report.problems:
        print(f"PROBLEM  {problem}")
    for name in report.extra:
        print(f"extra    {name} (not in the manifest)")
    print(
        f"{len(report.checked)} file(s) match the manifest"
        + (f"; {len(report.problems)} problem(s)" if report.problems else "")
    )
    return 0 if report.ok else 1
