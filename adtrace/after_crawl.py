"""What follows every crawl, in one place: cross-ad signals, then alerts.

Signals (one number in many ads, moving between cities, …) depend on every ad, so they
are recomputed once a crawl's ads are all stored; alerts then see them. This lives in the
command-line layer because it joins the indexer (signals) and the web UI's saved
searches (alerts); the crawler package itself knows neither.
"""

from __future__ import annotations

import sys


def after_crawl(store_url: str, *, alerts: bool = True, quiet: bool = False) -> None:
    """Refresh signals and run alerts; a failure is reported and never undoes the crawl.

    The demo passes ``alerts=False``: its fresh store has no saved searches of its own,
    and the accounts of the configured data folder must not be alerted about demo ads.
    ``quiet`` (``adtrace crawl --quiet``) leaves out the line that says what was refreshed;
    failures are still said."""
    from adtrace.alerts_cli import run_after_crawl
    from indexer.store import open_store
    from indexer.store.base import StoreError

    try:
        store = open_store(store_url)
        try:
            counts = store.refresh_signals()
        finally:
            store.close()
    except StoreError as exc:  # the captures are archived (and spooled); next run retries
        print(f"signals: not refreshed after the crawl: {exc}", file=sys.stderr)
    else:
        summary = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()) if n)
        if not quiet:
            print(f"signals refreshed: {summary or 'none'}", file=sys.stderr)
    if alerts:
        run_after_crawl(store_url)
