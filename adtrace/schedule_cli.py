"""``adtrace schedule [--once] [--source ID]``: crawl each enabled source at its interval.

Without ``--once`` it runs until SIGINT or SIGTERM, which stop it cleanly between runs
(a crawl under way finishes first and is recorded). Ctrl-C from the terminal reaches the
crawl under way too, which then stops gracefully, as Scrapy stops on Ctrl-C
(crawler.interrupts). ``--once`` crawls the sources that
are due now and exits (what cron jobs and tests use). The source register is read again
before each start (crawler.schedule): what it no longer approves is not started.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.register import SourceError


def register(sub: Any) -> None:
    p = sub.add_parser("schedule", help="crawl each enabled source at its interval until "
                       "stopped (SIGINT/SIGTERM stop between runs; Ctrl-C in the terminal also "
                       "stops a run under way gracefully)",
                       epilog="The source files are read again before each start: a file "
                       "removed, disabled or made invalid is not started again (a run under "
                       "way finishes), a changed one applies from its next run, a new one is "
                       "scheduled; each change is said once. An invalid file is never "
                       "crawled; the other sources carry on. --once exits 1 when a source "
                       "file it would run (all, or those named with --source) is not valid.")
    p.add_argument("--once", action="store_true", help="crawl the sources due now, then exit")
    p.add_argument("--source", action="append", default=[], metavar="ID",
                   help="only this source (repeatable; default: all enabled)")
    p.add_argument("--dir", default="", help="folder of source files (default: setting)")
    p.add_argument("--store", default="", help="store URL (default: ADTRACE_STORE)")
    p.add_argument("--archive", default="", help="archive folder (default: ADTRACE_ARCHIVE_DIR)")
    p.set_defaults(func=run_schedule)


def run_schedule(args: argparse.Namespace) -> int:
    from adtrace import settings
    from adtrace.terminal import cell
    from crawler.cli import load_register, select_sources, warn_invalid
    from crawler.schedule import Scheduler
    from indexer.model import utcnow

    valid, errors = load_register(args.dir)
    sources = select_sources(valid, args.source, named_disabled=False, verb="schedule",
                             errors=errors)
    warn_invalid(errors)

    def say(text: str) -> None:
        print(cell(text, keep_backslash=True), flush=True)  # a file's text, escaped

    from adtrace.after_crawl import after_crawl

    store_url = args.store or settings.store_url()
    scheduler = Scheduler(sources, store_url,
                          args.archive or str(settings.archive_dir()),
                          say=say, after_run=lambda: after_crawl(store_url),
                          register_dir=args.dir or str(settings.sources_dir()),
                          only=frozenset(args.source), errors=errors)
    if args.once:
        done = scheduler.run_due()
        if not done:
            waits = scheduler.waits(utcnow())
            say("nothing due; next: " + (", ".join(
                f"{sid} in {w.total_seconds() / 3600:.1f} h" for sid, w in sorted(waits.items()))
                or "none (no enabled valid source)"))
        return 1 if _concerned(scheduler.errors, args.source) or scheduler.failed else 0

    def stop(signum: int, frame: Any) -> None:
        say(f"signal {signal.Signals(signum).name}: stopping after the current run"
            + (" (Ctrl-C in the terminal stops it gracefully)" if signum == signal.SIGINT
               else ""))
        scheduler.stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    say(f"scheduling {', '.join(s.id for s in sources)}; stop with Ctrl-C or SIGTERM")
    scheduler.forever()
    sys.stdout.flush()
    return 0


def _concerned(errors: Sequence[SourceError], named: list[str]) -> list[SourceError]:
    """The invalid files a run was asked for: all, or those of the sources named."""
    return [e for e in errors if not named or e.source_id in named]
