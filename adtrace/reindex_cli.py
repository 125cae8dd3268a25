"""``adtrace reindex [--to URL] [--batch N] [--catalogue FILE]``: no re-crawl needed.

Without ``--to``: re-enrich every stored version with the current indicator catalogue
(after a catalogue change), then refresh the cross-ad signals. With ``--to``: move the
installation to another store (e.g. Elasticsearch) by writing every archived capture
into it; rerun it to resume. Progress goes to stderr, the summary to stdout; skipped
captures are listed by file@offset and make the exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from adtrace.cli import CommandError

SHOWN_PROBLEMS = 50


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reindex", help="re-enrich every stored version from the archive, or copy the store "
                        "to another (--to); no re-crawl")
    p.add_argument("--to", default="", metavar="URL",
                   help="target store: a SQLite path or an Elasticsearch http(s):// URL")
    p.add_argument("--batch", type=int, default=200, metavar="N",
                   help="versions (or captures) enriched and written per batch (default 200)")
    p.add_argument("--catalogue", default="", metavar="FILE",
                   help="indicator catalogue YAML to enrich with (default: the shipped one)")
    p.add_argument("--sources", default="", metavar="DIR",
                   help="source register folder (default: ADTRACE_SOURCES_DIR or the bundled)")
    p.add_argument("--archive", default="", metavar="DIR",
                   help="WARC archive folder (default: ADTRACE_ARCHIVE_DIR or <data_dir>/archive)")
    p.set_defaults(func=run_reindex)

    p = sub.add_parser("signals", help="recompute the cross-ad signals (after a crawl) and "
                                       "print how many ads carry each")
    p.add_argument("--ad", default="", metavar="AD_ID", help="only show why this ad carries "
                   "its signals (nothing is recomputed)")
    p.set_defaults(func=run_signals)


def _enricher(path: str) -> Any:
    from indexer.enrich.pipeline import Enricher

    if not path:
        return Enricher()
    if not Path(path).is_file():
        raise CommandError(f"--catalogue {path}: no such file")
    import yaml

    try:
        return Enricher(Path(path))
    except (ValueError, KeyError, TypeError, OSError, yaml.YAMLError) as exc:
        raise CommandError(f"--catalogue {path}: {exc}") from exc


def _sources(folder: Path) -> dict[str, Any]:
    from crawler.register import SourceError, load_sources

    try:
        return {s.id: s for s in load_sources(folder)}
    except SourceError as exc:
        raise CommandError(str(exc)) from exc


def _open(url: str, what: str) -> Any:
    from indexer.store import StoreError, open_store

    try:
        return open_store(url)
    except StoreError as exc:
        raise CommandError(f"{what} {url}: {exc}") from exc


def run_reindex(args: argparse.Namespace) -> int:
    from adtrace import settings
    from indexer.archive import lock as archive_lock

    if args.batch < 1:
        raise CommandError(f"--batch {args.batch}: must be at least 1")
    source_url = settings.store_url()
    if args.to and Path(args.to).expanduser().resolve() == Path(source_url).expanduser().resolve():
        raise CommandError(f"--to {args.to}: is the store being reindexed; give another store")
    archive = Path(args.archive) if args.archive else settings.archive_dir()
    if not archive.is_dir():
        raise CommandError(f"archive {archive}: not a folder (set --archive or ADTRACE_ARCHIVE_DIR)")
    sources = _sources(Path(args.sources) if args.sources else settings.sources_dir())
    enricher = _enricher(args.catalogue)
    try:  # the archive lock, shared: no purge changes the archive or the store meanwhile
        with archive_lock.held(archive):
            report = _reindex(args, source_url, archive, sources, enricher)
    except archive_lock.ArchiveBusy as exc:  # an interrupted purge must be finished first
        raise CommandError(str(exc)) from exc
    _print(report, enricher, args)
    return 1 if report.problems else 0


def _reindex(args: argparse.Namespace, source_url: str, archive: Path,
             sources: dict[str, Any], enricher: Any) -> Any:
    """Rebuild in place, or into ``--to``; the report (adtrace.reindex.ReindexReport)."""
    from adtrace.progress import Progress
    from adtrace.reindex import Reextractor, Reindexer
    from indexer.store import StoreError

    store = _open(source_url, "store")
    target = _open(args.to, "--to") if args.to else None
    try:
        counts = store.stats()
        total, unit = (counts.get("captures", 0), "captures") if target else (counts.get("versions", 0), "versions")
        bar = Progress("reindex" if target is None else f"reindex --to {args.to}", total, unit)
        countries = {s.id: s.country for s in store.sources()}
        rx = Reextractor(archive, sources)
        job = Reindexer(store, enricher, rx, countries, batch=args.batch, on_progress=bar.advance)
        report = job.copy_to(target) if target is not None else job.in_place()
        bar.close()
        report.signals = (target or store).refresh_signals()
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        store.close()
        if target is not None:
            target.close()
    return report


def run_signals(args: argparse.Namespace) -> int:
    from adtrace import settings
    from indexer.signals import SIGNALS
    from indexer.store import StoreError

    store = _open(settings.store_url(), "store")
    try:
        if args.ad:
            from adtrace.audit_cli import record

            reasons_of = store.signal_reasons(args.ad)
            record("view_ad", args.ad, {"signals": len(reasons_of), "interface": "cli"})
            if not reasons_of:
                print(f"ad {args.ad}: no cross-ad signal (or no such ad)", file=sys.stderr)
            for signal, reasons in reasons_of.items():
                for reason in reasons:
                    print(f"{signal}\t{reason}")
            return 0
        for signal, count in store.refresh_signals().items():
            print(f"{signal}\t{count}\t{SIGNALS[signal]}")
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        store.close()
    return 0


def _print(report: Any, enricher: Any, args: argparse.Namespace) -> None:
    print(f"reindexed with catalogue {enricher.catalogue.version} ({enricher.version}): "
          f"{report.summary()}")
    flagged = ", ".join(f"{k}={v}" for k, v in report.signals.items() if v) or "none"
    print(f"cross-ad signals (ads): {flagged}")
    for note in report.notes[:SHOWN_PROBLEMS]:
        print(f"note: {note}")
    if len(report.notes) > SHOWN_PROBLEMS:
        print(f"… and {len(report.notes) - SHOWN_PROBLEMS} more notes")
    for problem in report.problems[:SHOWN_PROBLEMS]:
        print(f"skipped: {problem}", file=sys.stderr)
    if len(report.problems) > SHOWN_PROBLEMS:
        print(f"… and {len(report.problems) - SHOWN_PROBLEMS} more skipped captures",
              file=sys.stderr)
