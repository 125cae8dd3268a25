"""``adtrace alerts run``: re-run every saved search and watched number now.

``adtrace crawl`` calls ``run_after_crawl`` when its crawl is done, so alerts follow
every crawl; the crawler package itself never imports the web UI (the call lives in the
CLI layer).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    a = sub.add_parser("alerts", help="saved-search and watch-list alerts")
    asub = a.add_subparsers(dest="alerts_command", metavar="ACTION")
    asub.required = True
    r = asub.add_parser("run", help="re-run every saved search and watched number now; new "
                        "matches go to the users' inboxes (and e-mail when SMTP is set)")
    r.add_argument("--store", default="", help="store URL (default: ADTRACE_STORE)")
    r.add_argument("--data-dir", default="", help="web UI data folder with the accounts file "
                   "(default: ADTRACE_DATA_DIR)")
    r.set_defaults(func=run_alerts)


def _run(store_url: str, data_dir: str) -> Any:
    from indexer.store import open_store
    from webui.alerts import run_all

    store = open_store(store_url)
    try:
        return run_all(store, data_dir)
    finally:
        store.close()


def run_alerts(args: argparse.Namespace) -> int:
    from adtrace import settings
    from adtrace.cli import CommandError
    from indexer.store.base import StoreError
    from webui import db

    data_dir = args.data_dir or str(settings.data_dir())
    if not db.accounts_path(data_dir).exists():
        raise CommandError(f"--data-dir {data_dir}: no accounts file there "
                           f"({db.FILENAME}); nobody has saved a search yet")
    try:
        report = _run(args.store or settings.store_url(), data_dir)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    for line in report.lines():
        print(line)
    return 1 if report.errors else 0


def run_after_crawl(store_url: str) -> None:
    """Alerts after a crawl. Only where a web UI keeps accounts (no file: nothing saved,
    nothing created); a failure is printed and never undoes the crawl."""
    from adtrace import settings
    from webui import db

    data_dir = str(settings.data_dir())
    if not db.accounts_path(data_dir).exists():
        return
    try:
        report = _run(store_url, data_dir)
    except Exception as exc:  # the crawl is stored; alerts run again next time
        print(f"alerts: not run after the crawl: {exc}", file=sys.stderr)
        return
    for line in report.lines():
        print(line)
