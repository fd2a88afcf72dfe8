"""Commands that read: search, export, stats, show, history, runs, check, serve."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

import orjson

from ..archive import Archive, ArchiveError
from ..home import Home
from .output import open_out

__all__ = ["cmd_check", "cmd_export", "cmd_history", "cmd_runs", "cmd_search", "cmd_serve", "cmd_show", "cmd_stats"]


def cmd_export(args: argparse.Namespace, home: Home) -> int:
    from ..dumps import ExportError, Tally, changes_window, parse_since, stream_all, stream_ids, stream_since

    searching = any((args.q, args.filter_source, args.category, args.date_from, args.date_to))
    incremental = args.since is not None or args.cursor is not None
    if searching and incremental:
        print("opennews: --since/--cursor export changes; they cannot be combined with search filters", file=sys.stderr)
        return 2
    tally, window = Tally(), None
    try:
        with Archive.open(home.settings.archive_target, readonly=True) as archive:
            if incremental:
                since = parse_since(args.since) if args.since is not None else None
                window = changes_window(archive, since=since, cursor=args.cursor)
                chunks = stream_since(archive, window, args.format, tally=tally)
            elif searching:
                chunks = stream_ids(archive, _matching_ids(args, home), args.format, tally=tally)
            else:
                chunks = stream_all(archive, args.format, tally=tally)
            out = open_out(args.output)
            try:
                for chunk in chunks:
                    out.write(chunk)
            finally:
                if args.output != "-":
                    out.close()
                else:
                    out.flush()
    except ExportError as exc:
        print(f"opennews: {exc}", file=sys.stderr)
        return 2
    if args.output != "-":
        print(f"Exported {tally.records:,} articles to {args.output}", file=sys.stderr)
    if window is not None:
        print(f"Next cursor: {window.upto} (opennews export --cursor {window.upto})", file=sys.stderr)
    return 0


def _matching_ids(args: argparse.Namespace, home: Home) -> list[str]:
    """Every article a search matches, newest first, for a filtered export."""
    from ..search import SearchRequest
    from ..vietnamese import parse_datetime

    def day(text: str | None):  # type: ignore[no-untyped-def]
        if not text:
            return None
        try:
            value = parse_datetime(text)
        except ValueError:
            raise ArchiveError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
        return value.date() if hasattr(value, "date") else value

    request = SearchRequest(
        q=args.q or "",
        source=args.filter_source,
        category=args.category,
        date_from=day(args.date_from),
        date_to=day(args.date_to),
    )
    with home.searcher() as searcher:
        return searcher.matching_ids(request)


def cmd_stats(args: argparse.Namespace, home: Home) -> int:
    with Archive.open(home.settings.archive_target, readonly=True) as archive:
        stats = archive.stats()
        stats["runs_recent"] = archive.runs(limit=1)
    if args.json:
        sys.stdout.write(orjson.dumps(stats, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    first, last = stats["published_range"]
    print(f"Archive: {archive.where} ({stats['bytes_on_disk'] / 1e6:,.1f} MB)")
    print(
        f"  articles {stats['articles']:,} · earlier versions {stats['versions']:,} · withdrawn {stats['withdrawn']:,}"
    )
    print(f"  sources {stats['sources']:,} · published {first or '—'} … {last or '—'}")
    print("  top sources: " + ", ".join(f"{s} ({n:,})" for s, n in stats["top_sources"]))
    if stats["top_categories"]:
        print("  top categories: " + ", ".join(f"{c} ({n:,})" for c, n in stats["top_categories"]))
    print("  by year: " + ", ".join(f"{y}: {n:,}" for y, n in stats["by_year"].items()))
    if stats["runs_recent"]:
        r = stats["runs_recent"][0]
        print(
            f"  last run {r['run_id']} ({r['status']}, {r['started_at']}): added {r['added']:,}, "
            f"updated {r['updated']:,}, unchanged {r['unchanged']:,}, rejected {r['rejected']:,}"
        )
    return 0


def cmd_show(args: argparse.Namespace, home: Home) -> int:
    with Archive.open(home.settings.archive_target, readonly=True) as archive:
        record = archive.version_record(args.id, args.version) if args.version else archive.get_record(args.id)
        tomb = archive.withdrawal(args.id)
    if record is None:
        if tomb:
            print(
                f"opennews: article {args.id} was withdrawn on {tomb['withdrawn_at']}: {tomb['reason']}"
                + (
                    f"; its text was purged ('opennews lift {args.id}' lets it be ingested again)"
                    if tomb["purged"]
                    else f"; 'opennews restore {args.id}' brings it back"
                ),
                file=sys.stderr,
            )
        else:
            print(f"opennews: no article with id {args.id}", file=sys.stderr)
        return 1
    sys.stdout.write(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def cmd_history(args: argparse.Namespace, home: Home) -> int:
    with Archive.open(home.settings.archive_target, readonly=True) as archive:
        versions = archive.history(args.id)
        tomb = archive.withdrawal(args.id)
    if not versions and not tomb:
        print(f"opennews: no article with id {args.id}", file=sys.stderr)
        return 1
    for v in versions:
        state = "current" if v["current"] else f"superseded {v['superseded_at']}"
        print(f"v{v['version']}  {v['content_hash'][:12]}  ingested {v['ingested_at']}  {state}")
    if tomb:
        print(f"withdrawn {tomb['withdrawn_at']}: {tomb['reason']}" + (" (purged)" if tomb["purged"] else ""))
    return 0


def cmd_runs(args: argparse.Namespace, home: Home) -> int:
    with Archive.open(home.settings.archive_target, readonly=True) as archive:
        runs = archive.runs(limit=args.limit)
    if args.json:
        sys.stdout.write(orjson.dumps(runs, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    for r in runs:
        print(
            f"run {r['run_id']} {r['started_at']} {r['status']}: added {r['added']:,}, updated {r['updated']:,}, "
            f"unchanged {r['unchanged']:,}, rejected {r['rejected']:,} — {r['command']}"
        )
        for i in r["inputs"]:
            detail = ", ".join(x for x in (i["format"], i["compression"], i["encoding"]) if x)
            print(f"    {i['input']} ({detail}): +{i['added']} ~{i['updated']} ={i['unchanged']} !{i['rejected']}")
    return 0


def cmd_check(args: argparse.Namespace, home: Home) -> int:
    with Archive.open(home.settings.archive_target, readonly=True) as archive:
        problems = archive.check()
        count = archive.count()
    if problems:
        for p in problems:
            print(f"problem: {p}")
        return 1
    print(f"Archive is sound: {count:,} articles, integrity check passed.")
    return 0


def _request(args: argparse.Namespace, q: str):  # type: ignore[no-untyped-def]
    from ..search import SearchRequest

    return SearchRequest(
        q=q,
        per_page=args.limit,
        page=args.page,
        sort=args.sort,
        source=args.source,
        category=args.category,
        facets=not args.batch,
        snippets=not args.batch,
    )


def cmd_search(args: argparse.Namespace, home: Home) -> int:
    with home.searcher() as searcher:
        if args.batch:
            for line in sys.stdin:
                q = line.rstrip("\n")
                if not q.strip():
                    continue
                r = searcher.search(_request(args, q))
                row = {
                    "query": q,
                    "total": r.total,
                    "results": [
                        {
                            "id": h.id,
                            "title": h.title,
                            "score": h.score,
                            "url": h.url,
                            "source": h.source,
                            "published": h.published,
                        }
                        for h in r.hits
                    ],
                    "suggestion": r.suggestion,
                    "suggestion_kind": r.suggestion_kind,
                    "relaxed": r.relaxed,
                }
                sys.stdout.write(orjson.dumps(row).decode() + "\n")
            return 0
        response = searcher.search(_request(args, " ".join(args.query)))
    if args.json:
        sys.stdout.write(orjson.dumps(response.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    _print_results(response, sys.stdout)
    return 0


def _plain(html_text: str, tty: bool) -> str:
    import html

    on, off = ("\033[1m", "\033[0m") if tty else ("[", "]")
    return html.unescape(html_text.replace("<mark>", on).replace("</mark>", off))


def _print_results(response, out: TextIO) -> None:  # type: ignore[no-untyped-def]
    tty = out.isatty()
    q = response.request.q
    print(
        f'{response.total:,} result{"s" if response.total != 1 else ""} for "{q}" ({response.took_ms:.0f} ms)', file=out
    )
    for note in response.notes:
        print(f"  note: {note}", file=out)
    if response.ran:
        print(f'  showing results for "{response.ran}" (nothing matches "{q}" as typed)', file=out)
    elif response.suggestion:
        print(f"  did you mean: {response.suggestion}", file=out)
    for hit in response.hits:
        when = (hit.published or "")[:10]
        print(f"{hit.rank:>3}. {_plain(hit.title_html or hit.title, tty)}", file=out)
        print(f"     {hit.source}{' · ' + when if when else ''} · {hit.id}", file=out)
        if hit.snippet:
            print(f"     {_plain(hit.snippet, tty)}", file=out)


def cmd_serve(args: argparse.Namespace, home: Home) -> int:
    from ..web.follow import enabled as following
    from ..web.serving import serve
    from .changes import cmd_demo
    from .output import print_sync

    if args.demo and home.is_empty():
        print(f"The archive is empty: creating {args.demo:,} demo articles first.", file=sys.stderr)
        code = cmd_demo(argparse.Namespace(articles=args.demo, seed=0, output=None), home)
        if code:
            return code
    if home.exists():
        # Searches need the index, and the static feeds are quick: both are brought up to date
        # before the server listens. The dumps are not waited for: at a million articles a
        # rewrite after an update of 1,000 took 25 minutes. Until they follow (the server's
        # follower starts their sync at its first look), the files of the last position are served.
        print_sync(home.sync(["index", "feeds"]), sys.stderr)
        positions = home.positions()
        if positions["dumps"] is None or positions["dumps"] < (positions["archive"] or 0):
            then = "the server brings them up to date now" if following() else "'opennews sync dumps' brings them up"
            print(f"Dumps: at change {positions['dumps'] or 0} of {positions['archive']}; {then}", file=sys.stderr)
    else:
        print("opennews: no archive yet; pages will say so until 'opennews ingest' or 'opennews demo'", file=sys.stderr)
    os.environ.update(home.settings.environment())  # the workers read their settings from the environment
    if getattr(args, "max_write_bytes", None) is not None:  # the workers read their settings from the environment
        os.environ["OPENNEWS_MAX_WRITE_BYTES"] = str(args.max_write_bytes)
    if getattr(args, "write_rate", None) is not None:
        os.environ["OPENNEWS_WRITE_RATE"] = str(args.write_rate)
    where = home.settings.home
    print(f"Serving {where} on http://{args.host}:{args.port}/ with {args.workers} worker(s)", file=sys.stderr)
    serve(
        where,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=args.access_log,
        header_timeout=args.header_timeout,
    )
    return 0
