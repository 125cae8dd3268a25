"""``adtrace sources list|check``, ``adtrace crawl``, ``adtrace archive verify``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.register import SourceError
    from crawler.run import CrawlInterrupted
    from crawler.source import Source


def register(sub: Any) -> None:
    src = sub.add_parser("sources", help="the source register: list or check source files")
    ssub = src.add_subparsers(dest="sources_command", metavar="ACTION")
    ssub.required = True
    for action, help_text, func in (
        ("list", "list the valid sources: id, enabled, theme, base URL, reason (an invalid "
                 "file is a warning on stderr)", run_sources_list),
        ("check", "validate every source file; name every wrong field of every file "
                  "(file: field: problem, on stderr); exit 1 if any", run_sources_check),
    ):
        p = ssub.add_parser(action, help=help_text)
        p.add_argument("--dir", default="", help="folder of source files (default: setting)")
        p.set_defaults(func=func)

    c = sub.add_parser("crawl", help="crawl enabled sources into the archive and the store; "
                       "'adtrace crawl status' shows the last run per source",
                       epilog="An invalid source file is not crawled; the valid sources "
                       "are. Without --source, each invalid file is named on stderr after "
                       "the crawl and the exit status is 1 (also when another process "
                       "crawls a source); with --source, only the sources named count, and "
                       "one whose file is invalid is an error (exit 2, nothing crawled). "
                       "'crawl status' names invalid files in a warning line.")
    c.add_argument("action", nargs="?", choices=["status"],
                   help="status: the last run per source (pages, new ads, errors, …)")
    c.add_argument("--source", action="append", default=[], metavar="ID",
                   help="crawl only this source (repeatable; default: all enabled)")
    c.add_argument("--dir", default="", help="folder of source files (default: setting)")
    c.add_argument("--store", default="", help="store URL (default: ADTRACE_STORE)")
    c.add_argument("--archive", default="", help="archive folder (default: ADTRACE_ARCHIVE_DIR)")
    c.add_argument("--quiet", action="store_true", help="no progress on stderr")
    c.add_argument("--revisit-all", action="store_true",
                   help="refetch every known live ad now, whatever its revisit interval")
    c.set_defaults(func=run_crawl)

    a = sub.add_parser("archive", help="the evidence archive (WARC files and images)")
    asub = a.add_subparsers(dest="archive_command", metavar="ACTION")
    asub.required = True
    v = asub.add_parser("verify", help="re-read every record and image and check its hashes; "
                        "check that every capture and image the store names is archived")
    v.add_argument("--archive", default="", help="archive folder (default: ADTRACE_ARCHIVE_DIR)")
    v.add_argument("--store", default="",
                   help="store whose captures and images must be in the archive "
                        "(default: ADTRACE_STORE, when there is one)")
    v.add_argument("--no-store", action="store_true",
                   help="check the archive alone, not against a store")
    v.add_argument("--quiet", action="store_true", help="no progress on stderr")
    v.set_defaults(func=run_archive_verify)


def load_register(folder: str) -> tuple[list[Source], list[SourceError]]:
    """The register's valid sources and, apart, its invalid files' errors (the folder
    named, else the setting's); a folder that cannot be read is the command's error."""
    from adtrace import settings
    from adtrace.cli import CommandError
    from crawler.register import SourceError, load_register

    try:
        return load_register(folder or settings.sources_dir())
    except SourceError as exc:
        raise CommandError(str(exc)) from exc


def warn_invalid(errors: Sequence[SourceError], prefix: str = "warning: ") -> None:
    """One line on stderr per invalid file (its first problem, and how many more): its
    source is not crawled."""
    from adtrace.terminal import cell

    for error in errors:
        print(f"{prefix}source file not valid, not crawled: "
              f"{cell(error.summary(), keep_backslash=True)}", file=sys.stderr)


def run_sources_list(args: argparse.Namespace) -> int:
    from adtrace.terminal import cell

    sources, errors = load_register(args.dir)
    for s in sources:
        state = "enabled " if s.enabled else "disabled"
        print(f"{s.id:20} {state} {cell(s.theme):12} {cell(s.base_url)}\n"
              f"    why: {cell(s.reason)} (approved by {cell(s.approved_by)} on "
              f"{cell(s.approved_on)})")
    warn_invalid(errors)
    return 0


def run_sources_check(args: argparse.Namespace) -> int:
    """Every problem of every file, one line each (file: field: problem); a folder with
    no source file at all is a problem too."""
    from adtrace import settings
    from adtrace.terminal import cell

    sources, errors = load_register(args.dir)
    for error in errors:
        for problem in error.problems:
            print(cell(problem, keep_backslash=True), file=sys.stderr)
    if not sources and not errors:  # a wrong --dir, most likely: not a register at all
        print(f"no source files (*.yaml, *.yml) in {cell(str(args.dir or settings.sources_dir()))}",
              file=sys.stderr)
        return 1
    print(f"{len(sources)} source file(s) valid"
          + (f", {len(errors)} not valid" if errors else ""))
    return 1 if errors else 0


def run_crawl_status(args: argparse.Namespace) -> int:
    from adtrace import settings
    from adtrace.cli import CommandError
    from adtrace.terminal import cell
    from crawler.status import source_status, status_line
    from indexer.store import open_store
    from indexer.store.base import StoreError

    named = list(args.source)
    registered: set[str] | None = None  # every id the register gives (None: no register)
    if os.path.isdir(args.dir or str(settings.sources_dir())):
        sources, errors = load_register(args.dir)
        registered = {s.id for s in sources} | {e.source_id for e in errors if e.source_id}
        if not named:
            named = [s.id for s in sources if s.enabled]
            warn_invalid(errors)
    url = args.store or settings.store_url()
    if _embedded_store_missing(url):  # said, not made: status only reads
        _refuse_unknown(args.source, registered)
        print(f"no store at {url} yet: nothing was crawled into it")
        for source_id in args.source or named:
            print(f"{source_id}: never crawled")
        return 0
    try:
        store = open_store(url, create=False)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    try:
        rows = source_status(store, named, args.archive or str(settings.archive_dir()))
        stored = {s.id for s in store.sources()}
    finally:
        store.close()
    if args.source:
        rows = [r for r in rows if r.source_id in args.source]
        _refuse_unknown([r.source_id for r in rows if r.source_id not in stored
                         and r.last is None and not r.crawling], registered)
    for row in rows:
        print(status_line(row))
        for err in (row.last_ended.error_samples[:3] if row.last_ended else ()):
            print(f"    error: {cell(err.url)}: {cell(err.reason, keep_backslash=True)}")
    if not rows:
        print("no sources and no crawl runs recorded")
    return 0


def _refuse_unknown(never_crawled: Sequence[str], registered: set[str] | None) -> None:
    """``crawl status --source`` with an id that neither the register nor the store
    knows: an error, as for ``crawl --source`` (a typo would otherwise read as "never
    crawled"). Without a register folder, nothing is refused."""
    from adtrace.cli import CommandError

    unknown = [sid for sid in never_crawled if registered is not None and sid not in registered]
    if unknown:
        raise CommandError(f"--source {', '.join(unknown)}: no such source (not in the "
                           "register nor in the store)")


def select_sources(sources: list[Source], wanted: list[str], *, named_disabled: bool,
                   verb: str, errors: Sequence[SourceError] = ()) -> list[Source]:
    """The enabled sources, or those named with --source; an unknown name is an error,
    and so is a name whose file is not valid (``errors``: it is not crawled).

    A one-off crawl may name a disabled source (``named_disabled``); the schedule never
    runs one."""
    from adtrace.cli import CommandError
    from adtrace.terminal import cell

    usable = [s for s in sources if s.enabled or (named_disabled and s.id in wanted)]
    if wanted:
        for name in sorted(set(wanted) - {s.id for s in usable}):
            bad = next((e for e in errors if e.source_id == name), None)
            if bad is not None:
                raise CommandError(f"--source {name}: its source file is not valid: "
                                   f"{cell(bad.summary(), keep_backslash=True)}")
        unknown = sorted(set(wanted) - {s.id for s in usable})
        if unknown:
            kind = "source" if named_disabled else "enabled source"
            raise CommandError(f"--source {', '.join(unknown)}: no such {kind}")
        usable = [s for s in usable if s.id in wanted]
    if not usable:
        invalid = f" ({len(errors)} source file(s) not valid: adtrace sources check)"
        raise CommandError(f"no enabled sources to {verb}" + (invalid if errors else ""))
    return usable


def run_crawl(args: argparse.Namespace) -> int:
    """Crawl the chosen valid sources. Without --source, the invalid files are named on
    stderr after the crawl and the status is 1; with --source, invalid files not named
    are a warning only."""
    if args.action == "status":
        return run_crawl_status(args)
    from adtrace import settings
    from adtrace.cli import CommandError
    from crawler.run import CrawlError, CrawlInterrupted, crawl

    valid, errors = load_register(args.dir)
    sources = select_sources(valid, args.source, named_disabled=True, verb="crawl",
                             errors=errors)
    if args.source and errors:
        print(f"warning: {len(errors)} other source file(s) not valid, not crawled "
              "(adtrace sources check names the errors)", file=sys.stderr)
    try:
        stats = crawl(sources, args.store or settings.store_url(),
                      args.archive or str(settings.archive_dir()), progress=not args.quiet,
                      settings={"ADTRACE_REVISIT_ALL": True} if args.revisit_all else None)
    except CrawlError as exc:
        raise CommandError(str(exc)) from exc
    except CrawlInterrupted as stopped:  # Ctrl-C: the crawl processes have stopped
        for line in stopped.stats.lines():
            print(line)
        print(f"interrupted: {interrupted_how(stopped)}; cross-ad signals and alerts "
              "were not refreshed (the next crawl refreshes them)", file=sys.stderr)
        return 130
    for line in stats.lines():
        print(line)
    # --- after every crawl: cross-ad signals, then saved searches and watch lists. The
    # call is here in the CLI layer, through adtrace (the crawler package never imports
    # the web UI).
    from adtrace.after_crawl import after_crawl

    if len(stats.refused()) < len(stats.sources):  # not when every source was refused
        after_crawl(args.store or settings.store_url(), quiet=args.quiet)
    not_crawled = [] if args.source else errors
    warn_invalid(not_crawled, prefix="")
    unreached = stats.unreached()
    for sid, why in unreached.items():
        print(f"{sid}: {why}", file=sys.stderr)
    return 1 if stats.refused() or not_crawled or unreached else 0


def interrupted_how(stopped: CrawlInterrupted) -> str:
    """What a Ctrl-C left, said after the crawl processes stopped: from how each run
    ended (two Ctrl-Cs while a crawl process starts are one to it: a graceful stop)."""
    if stopped.failure:
        return f"and a crawl process failed meanwhile: {stopped.failure}"
    ended = [s for s in stopped.stats.sources.values() if not s.refused]
    if ended and all(s.finish_reason == "shutdown" for s in ended):
        return ("the crawl stopped early and gracefully: what it fetched is archived and "
                "stored (runs on record as shutdown)")
    if not ended and stopped.stats.sources:
        return "no crawl had begun"
    return ("the crawl stopped at once: what it fetched is archived; a run stopped so is "
            "on record as unfinished, and the next crawl resumes it")


def run_archive_verify(args: argparse.Namespace) -> int:
    from adtrace import settings
    from adtrace.cli import CommandError
    from adtrace.progress import LateProgress
    from adtrace.terminal import cell
    from indexer.archive import archive_verify
    from indexer.archive.lock import ArchiveBusy

    root = args.archive or str(settings.archive_dir())
    if not os.path.isdir(root):
        if args.archive:
            raise CommandError(f"--archive {root}: not a folder")
        raise CommandError(f"archive {root}: not a folder: nothing was archived there yet "
                           "(set --archive or ADTRACE_ARCHIVE_DIR)")
    store, store_note, store_ads = _verify_store(args)
    bar = None if args.quiet else _verify_progress(root)
    ads = None if args.quiet or store is None else LateProgress("verify store", store_ads, "ads")
    try:
        report = archive_verify(root, store, on_progress=bar.add if bar else None,
                                on_ad=ads.advance if ads else None)
    except ArchiveBusy as exc:
        raise CommandError(str(exc)) from exc
    finally:
        for shown in (bar, ads):
            if shown:
                shown.close()
        if store is not None:
            store.close()
    print(f"{report.files} WARC file(s), {report.records} record(s), {report.images} image(s); "
          f"{report.index_entries} capture index entries")
    print(f"store: {report.store_captures} capture(s) and {report.store_images} image(s) "
          "looked for" if store is not None else f"store: not checked ({cell(store_note)})")
    # a problem can quote a URL or bytes of a hostile page: one escaped line each
    for problem in report.problems:
        print(f"BAD  {cell(problem)}")
    for file, offset in report.truncated:
        print(f"PARTIAL  {cell(file)}@{offset}: unfinished record at the end (a crawl was killed); "
              "the records before it are intact")
    for rel in report.leftovers:
        print(f"LEFTOVER  {cell(rel)}: left by a killed crawl or purge, named by nothing "
              "(never used; safe to delete)")
    for note in report.notes:
        print(f"NOTE  {cell(note)}")
    print("OK" if report.ok else "PROBLEMS FOUND")
    return 0 if report.ok else 1


def _verify_store(args: argparse.Namespace) -> tuple[Any, str, int]:
    """The store to hold the archive against (with its number of ads), or None and why
    not. The default store (ADTRACE_STORE) goes with the default archive only, and is
    skipped, said so, only when it is an embedded store not made yet; a store that cannot
    be read (a server that is down) is an error, said now rather than after the archive
    is read."""
    from adtrace import settings
    from adtrace.cli import CommandError
    from indexer.store import StoreError, open_store

    if args.no_store:
        return None, "--no-store", 0
    if args.archive and not args.store:
        return None, "--archive was named without --store", 0
    url = args.store or settings.store_url()
    if not args.store and _embedded_store_missing(url):
        return None, f"no store at {url} yet", 0
    store = None
    try:  # a server that is down fails here, not after the whole archive was read
        store = open_store(url, create=False)
        ads = int(store.stats().get("ads", 0))
    except StoreError as exc:
        if store is not None:
            store.close()
        raise CommandError(f"{exc} (--no-store checks the archive alone)") from exc
    return store, "", ads


def _embedded_store_missing(url: str) -> bool:
    if url.startswith(("http://", "https://")):
        return False
    return not os.path.exists(url.removeprefix("sqlite:///"))


def _verify_progress(root: str) -> Any:
    """A progress bar in MiB over the WARC and image files to read."""
    from adtrace.progress import ByteProgress, Progress
    from indexer.archive.images import IMAGE_DIR
    from indexer.archive.writer import WARC_DIR

    total = 0
    for sub in (WARC_DIR, IMAGE_DIR):
        for dirpath, _dirs, files in os.walk(os.path.join(root, sub)):
            total += sum(_size(os.path.join(dirpath, f)) for f in files)
    return ByteProgress(Progress("verify", max(1, total >> 20), "MiB"))


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
