"""The ``opennews`` command: ingest, inspect, export and curate an archive.

Every command works on one home folder (``--home``, ``OPENNEWS_HOME``, default:
the current directory). Progress goes to stderr, results to stdout, so
``opennews export > dump.ndjson`` and ``opennews stats --json | jq`` behave.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

import orjson

from . import __version__
from .archive import Archive, ArchiveError
from .settings import Settings

if TYPE_CHECKING:
    from .ingest import IngestReport

#: The reader names ``--format`` accepts (checked against the readers when used; the
#: readers themselves are imported only by the commands that read, so that exports and
#: other commands start fast).
FORMAT_NAMES = "ndjson, json, feed, html, headers, keyvalue, text"


def _format(value: str) -> str:
    from .ingest.readers import FORMATS

    if value not in FORMATS:
        raise argparse.ArgumentTypeError(f"invalid format {value!r} (choose from {', '.join(FORMATS)})")
    return value


__all__ = ["main"]


def _print_report(report: IngestReport, elapsed: float, out: TextIO) -> None:
    n = len(report.inputs)
    print(f"Ingest run {report.run_id}: {n:,} input{'s' if n != 1 else ''} in {elapsed:.1f} s", file=out)
    print(
        f"  added {report.total('added'):,} · updated {report.total('updated'):,} · "
        f"unchanged {report.total('unchanged'):,} · rejected {report.rejects_total:,}",
        file=out,
    )
    for item in report.inputs:
        if item.encoding and item.encoding not in ("utf-8",):
            print(f"  {item.name}: decoded as {item.encoding}", file=out)
    if report.rejects_total:
        print(f"Rejected ({report.rejects_total:,}; every one is listed in {report.rejects_path}):", file=out)
        for rej in report.rejects[:20]:
            print(f"  {rej.input} {rej.where}: {rej.reason}", file=out)
        if report.rejects_total > 20:
            print(f"  … and {report.rejects_total - 20:,} more", file=out)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from .ingest import IngestOptions, ingest
    from .progress import progress_for

    options = IngestOptions(
        batch_size=args.batch_size,
        default_source=args.source,
        format=args.format,
        max_record_bytes=args.max_record_bytes,
    )
    started = time.monotonic()
    with Archive.open(settings.archive_path) as archive:
        report = ingest(
            archive,
            args.paths,
            rejects_path=settings.rejects_path,
            options=options,
            progress=progress_for(sys.stderr, quiet=args.quiet),
        )
    if report.read_anything and not args.no_index:
        _update_index(settings, quiet=args.quiet or args.json)
        if not args.no_feeds:
            _write_feeds(settings, args.base_url, quiet=args.quiet or args.json)
    if report.read_anything and not args.no_dumps:
        _update_dumps(settings, quiet=args.quiet or args.json)
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
        _print_report(report, time.monotonic() - started, sys.stdout)
    if not report.read_anything:
        print("opennews: nothing could be read from the input", file=sys.stderr)
        return 1
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from .demo import generate
    from .ingest import Found, IngestOptions, Run

    if args.output:
        with _open_out(args.output) as out:
            for record in generate(args.articles, seed=args.seed):
                out.write(orjson.dumps(record) + b"\n")
        print(f"Wrote {args.articles:,} demo articles to {args.output}")
        return 0
    started = time.monotonic()
    with Archive.open(settings.archive_path) as archive:
        run = Run(archive, rejects_path=settings.rejects_path, options=IngestOptions(), command="demo")
        info = run.begin_input(f"demo (seed {args.seed})")
        info.format = "demo"
        for n, record in enumerate(generate(args.articles, seed=args.seed), 1):
            run.take(Found(f"article {n}", record), info)
        report = run.finish()
    _print_report(report, time.monotonic() - started, sys.stdout)
    if report.read_anything:
        _update_index(settings, quiet=False)
        _update_dumps(settings, quiet=False)
    return 0 if report.read_anything else 1


def _open_out(path: str):  # type: ignore[no-untyped-def]
    if path == "-":
        return sys.stdout.buffer
    if path.endswith(".gz"):
        return gzip.open(path, "wb", compresslevel=6)
    return open(path, "wb")


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from .dumps import ExportError, Tally, changes_window, parse_since, stream_all, stream_ids, stream_since

    searching = any((args.q, args.filter_source, args.category, args.date_from, args.date_to))
    incremental = args.since is not None or args.cursor is not None
    if searching and incremental:
        print("opennews: --since/--cursor export changes; they cannot be combined with search filters", file=sys.stderr)
        return 2
    tally, window = Tally(), None
    try:
        with Archive.open(settings.archive_path, readonly=True) as archive:
            if incremental:
                since = parse_since(args.since) if args.since is not None else None
                window = changes_window(archive, since=since, cursor=args.cursor)
                chunks = stream_since(archive, window, args.format, tally=tally)
            elif searching:
                chunks = stream_ids(archive, _matching_ids(args, settings), args.format, tally=tally)
            else:
                chunks = stream_all(archive, args.format, tally=tally)
            out = _open_out(args.output)
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


def _matching_ids(args: argparse.Namespace, settings: Settings) -> list[str]:
    """Every article a search matches, newest first, for a filtered export."""
    from .search import SearchRequest
    from .vietnamese import parse_datetime

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
    searcher, archive = _searcher(settings)
    try:
        return searcher.matching_ids(request)
    finally:
        searcher.close()
        archive.close()


def _update_dumps(settings: Settings, *, quiet: bool, force: bool = False) -> None:
    """Rewrite the dump files whose records changed (closed, unchanged months are kept)."""
    from .dumps import build_dumps

    with Archive.open(settings.archive_path, readonly=True) as archive:
        report = build_dumps(archive, settings.dumps_dir, force=force)
    if not quiet:
        print(
            f"Dumps: {len(report.written)} file(s) written, {len(report.kept)} unchanged, "
            f"{len(report.removed)} removed in {report.seconds:.1f} s ({settings.dumps_dir})",
            file=sys.stderr,
        )


def cmd_dumps(args: argparse.Namespace, settings: Settings) -> int:
    _update_dumps(settings, quiet=args.quiet, force=args.force)
    return 0


def cmd_verify_dumps(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from .dumps import verify_dumps

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


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    with Archive.open(settings.archive_path, readonly=True) as archive:
        stats = archive.stats()
        stats["runs_recent"] = archive.runs(limit=1)
    if args.json:
        sys.stdout.write(orjson.dumps(stats, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    first, last = stats["published_range"]
    print(f"Archive: {settings.archive_path} ({stats['bytes_on_disk'] / 1e6:,.1f} MB)")
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


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    with Archive.open(settings.archive_path, readonly=True) as archive:
        record = archive.version_record(args.id, args.version) if args.version else archive.get_record(args.id)
        tomb = archive.withdrawal(args.id)
    if record is None:
        if tomb:
            print(
                f"opennews: article {args.id} was withdrawn on {tomb['withdrawn_at']}: {tomb['reason']}",
                file=sys.stderr,
            )
        else:
            print(f"opennews: no article with id {args.id}", file=sys.stderr)
        return 1
    sys.stdout.write(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    with Archive.open(settings.archive_path, readonly=True) as archive:
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


def cmd_withdraw(args: argparse.Namespace, settings: Settings) -> int:
    with Archive.open(settings.archive_path) as archive:
        archive.withdraw(args.id, args.reason, purge=args.purge)
    print(f"Withdrew {args.id}" + (" and purged its text" if args.purge else "") + f": {args.reason}")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    with Archive.open(settings.archive_path) as archive:
        archive.restore(args.id)
    print(f"Restored {args.id}")
    return 0


def cmd_runs(args: argparse.Namespace, settings: Settings) -> int:
    with Archive.open(settings.archive_path, readonly=True) as archive:
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


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    with Archive.open(settings.archive_path, readonly=True) as archive:
        problems = archive.check()
        count = archive.count()
    if problems:
        for p in problems:
            print(f"problem: {p}")
        return 1
    print(f"Archive is sound: {count:,} articles, integrity check passed.")
    return 0


def _update_index(settings: Settings, *, quiet: bool, rebuild: bool = False) -> None:
    """Bring the search index up to date with the archive (incrementally unless told)."""
    from .search import Indexer

    with Archive.open(settings.archive_path) as archive:
        indexer = Indexer(settings.index_dir, archive)
        bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(
                total=None if indexer.exists() and not rebuild else archive.count(),
                unit="doc",
                desc="indexing",
                file=sys.stderr,
            )
        tick = bar.update if bar is not None else None
        report = indexer.rebuild(tick) if rebuild else indexer.update(tick)
        if bar is not None:
            bar.close()
    if not quiet:
        what = "rebuilt" if report.mode == "rebuild" else "updated"
        print(
            f"Index {what}: {report.indexed:,} indexed, {report.deleted:,} removed in {report.seconds:.1f} s",
            file=sys.stderr,
        )


def _write_feeds(settings: Settings, base_url: str | None, *, quiet: bool) -> None:
    """Rewrite the static feeds in feeds/ (only files whose bytes change are touched)."""
    import os

    from .feeds import ArchiveReader, write_static

    base = (base_url or os.environ.get("OPENNEWS_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
    searcher, archive = _searcher(settings)
    try:
        reader = ArchiveReader(searcher, archive)
        report = write_static(settings.feeds_dir, reader, reader.catalog(), base)
    finally:
        searcher.close()
        archive.close()
    if not quiet:
        print(
            f"Feeds in {settings.feeds_dir}: {len(report.written):,} files written, {report.unchanged:,} unchanged, "
            f"{len(report.removed):,} removed",
            file=sys.stderr,
        )


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    _write_feeds(settings, args.base_url, quiet=args.quiet)
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    _update_index(settings, quiet=args.quiet, rebuild=args.rebuild)
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from .search import Indexer

    with Archive.open(settings.archive_path, readonly=True) as archive:
        report = Indexer(settings.index_dir, archive).verify()
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


def _searcher(settings: Settings):  # type: ignore[no-untyped-def]
    from .search import Searcher

    archive = Archive.open(settings.archive_path, readonly=True)
    try:
        return Searcher(settings.index_dir, archive), archive
    except FileNotFoundError as exc:
        archive.close()
        raise ArchiveError(str(exc)) from None


def _request(args: argparse.Namespace, q: str):  # type: ignore[no-untyped-def]
    from .search import SearchRequest

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


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    searcher, archive = _searcher(settings)
    try:
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
    finally:
        searcher.close()
        archive.close()
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
    if response.suggestion:
        print(f"  did you mean: {response.suggestion}", file=out)
    for hit in response.hits:
        when = (hit.published or "")[:10]
        print(f"{hit.rank:>3}. {_plain(hit.title_html or hit.title, tty)}", file=out)
        print(f"     {hit.source}{' · ' + when if when else ''} · {hit.id}", file=out)
        if hit.snippet:
            print(f"     {_plain(hit.snippet, tty)}", file=out)


def _archive_is_empty(settings: Settings) -> bool:
    if not settings.archive_path.exists():
        return True
    with Archive.open(settings.archive_path, readonly=True) as archive:
        return archive.count() == 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from .search import Indexer
    from .web.serving import serve

    if args.demo and _archive_is_empty(settings):
        print(f"The archive is empty: creating {args.demo:,} demo articles first.", file=sys.stderr)
        code = cmd_demo(argparse.Namespace(articles=args.demo, seed=0, output=None), settings)
        if code:
            return code
    if settings.archive_path.exists():
        with Archive.open(settings.archive_path, readonly=True) as archive:
            indexed = Indexer(settings.index_dir, archive).exists()
        if not indexed:
            _update_index(settings, quiet=False)
    else:
        print("opennews: no archive yet; pages will say so until 'opennews ingest' or 'opennews demo'", file=sys.stderr)
    print(f"Serving {settings.home} on http://{args.host}:{args.port}/ with {args.workers} worker(s)", file=sys.stderr)
    serve(
        settings.home,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=args.access_log,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opennews",
        description="An open-data archive of Vietnamese news: ingest, search, feeds and dumps.",
        epilog="Data lives in one home folder: --home, else $OPENNEWS_HOME, else the current directory.",
    )
    parser.add_argument("--version", action="version", version=f"opennews {__version__}")
    parser.add_argument("--home", help="folder holding the archive, index/, feeds/ (default: $OPENNEWS_HOME or .)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
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
    p.add_argument("--max-record-bytes", type=int, default=8 * 1024 * 1024, help="reject longer NDJSON lines")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-index", action="store_true", help="do not update the search index afterwards")
    p.add_argument("--no-feeds", action="store_true", help="do not rewrite the static feeds in feeds/ afterwards")
    p.add_argument(
        "--base-url",
        help="site address for links in static feeds (default: $OPENNEWS_BASE_URL or http://127.0.0.1:8000)",
    )
    p.add_argument("--no-dumps", action="store_true", help="do not rebuild the changed dump files afterwards")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
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

    p = sub.add_parser("stats", help="what the archive holds", description="Counts, sources, years and the last run.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
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

    p = sub.add_parser(
        "dumps",
        help="write the downloadable dump files (monthly NDJSON, snapshot, CSV, manifest)",
        description="Bring dumps/ up to date: one gzip NDJSON file per month of publication (zstd too when "
        "installed), a full snapshot as NDJSON, CSV and Parquet (with pyarrow), withdrawals, manifest.json "
        "and datapackage.json. Months whose records did not change are not rewritten. Ingest does this by itself.",
    )
    p.add_argument("--force", action="store_true", help="rewrite every file")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_dumps)

    p = sub.add_parser(
        "verify-dumps",
        help="check downloaded dump files against their manifest",
        description="Check every file listed in DIR/manifest.json: present, same size, same SHA-256; "
        "--deep also decompresses and counts records. Exits 1 on any problem.",
    )
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--deep", action="store_true", help="also decompress and count the records")
    p.set_defaults(func=cmd_verify_dumps)

    p = sub.add_parser(
        "demo",
        help="generate a synthetic Vietnamese corpus and ingest it",
        description="Generate realistic synthetic Vietnamese news (several outlets, categories, years, both "
        "tone-mark styles) so a fresh install has something to search.",
    )
    p.add_argument("--articles", type=int, default=2000, help="how many articles (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same corpus)")
    p.add_argument("--output", help="write NDJSON to this file instead of ingesting")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "withdraw",
        help="take an article down, keeping a tombstone",
        description="Hide an article everywhere (e.g. a legal takedown). A tombstone (id, time, reason) "
        "tells feed and dump consumers it is gone; re-ingesting will not bring it back.",
    )
    p.add_argument("id")
    p.add_argument("--reason", required=True, help="why (kept in the tombstone)")
    p.add_argument("--purge", action="store_true", help="also delete every stored copy of the text")
    p.set_defaults(func=cmd_withdraw)

    p = sub.add_parser("restore", help="undo a withdrawal", description="Bring back a withdrawn (not purged) article.")
    p.add_argument("id")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("show", help="print one article as JSON", description="Print the current (or an older) record.")
    p.add_argument("id")
    p.add_argument("--version", type=int, help="an earlier version number (see 'history')")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("history", help="list an article's versions", description="Every stored version, oldest first.")
    p.add_argument("id")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("runs", help="the ingestion-run log", description="Recent runs: when, which inputs, counts.")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser(
        "index",
        help="bring the search index up to date",
        description="Apply the archive's changes since the last update to the search index (ingest does this "
        "by itself). --rebuild indexes everything into a fresh index and swaps it in; searches keep working.",
    )
    p.add_argument("--rebuild", action="store_true", help="rebuild from scratch")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser(
        "verify",
        help="check that the index and the archive agree",
        description="Compare ids, counts and content hashes of the index with the archive; says what to do "
        "when they differ. Exits 1 when they do.",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser(
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

    p = sub.add_parser("check", help="check the archive's integrity", description="SQLite integrity and tombstones.")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
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
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings.from_env(args.home)
    try:
        return int(args.func(args, settings))
    except ArchiveError as exc:
        print(f"opennews: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("opennews: interrupted; every committed batch is safe", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
