"""``adtrace schedule [--once] [--source ID]``: crawl each enabled source at its interval.

Without ``--once`` it runs until SIGINT or SIGTERM, which stop it cleanly between runs
(a crawl under way finishes first and is recorded). ``--once`` crawls the sources that
are due now and exits (what cron jobs and tests use).
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("schedule", help="crawl each enabled source at its interval until "
                       "stopped (SIGINT/SIGTERM stop between runs)")
    p.add_argument("--once", action="store_true", help="crawl the sources due now, then exit")
    p.add_argument("--source", action="append", default=[], metavar="ID",
                   help="only this source (repeatable; default: all enabled)")
    p.add_argument("--dir", default="", help="folder of source files (default: setting)")
    p.add_argument("--store", default="", help="store URL (default: ADTRACE_STORE)")
    p.add_argument("--archive", default="", help="archive folder (default: ADTRACE_ARCHIVE_DIR)")
    p.set_defaults(func=run_schedule)


def run_schedule(args: argparse.Namespace) -> int:
    from adtrace import settings
    from crawler.cli import _load, select_sources
    from crawler.schedule import Scheduler
    from indexer.model import utcnow

    sources = select_sources(_load(args.dir), args.source, named_disabled=False,
                             verb="schedule")

    def say(text: str) -> None:
        print(text, flush=True)

    from adtrace.after_crawl import after_crawl

    store_url = args.store or settings.store_url()
    scheduler = Scheduler(sources, store_url, args.archive or str(settings.archive_dir()),
                          say=say, after_run=lambda: after_crawl(store_url))
    if args.once:
        done = scheduler.run_due()
        if not done:
            waits = scheduler.waits(utcnow())
            say("nothing due; next: " + ", ".join(
                f"{sid} in {w.total_seconds() / 3600:.1f} h" for sid, w in sorted(waits.items())))
        return 0

    def stop(signum: int, frame: Any) -> None:
        say(f"signal {signal.Signals(signum).name}: stopping after the current run")
        scheduler.stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    say(f"scheduling {', '.join(s.id for s in sources)}; stop with Ctrl-C or SIGTERM")
    scheduler.forever()
    sys.stdout.flush()
    return 0
