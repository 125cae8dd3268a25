"""Run each enabled source at its interval until stopped.

A source is due when its interval (``crawl_every_hours``, else ``revisit_hours``) has
passed since the start of its last recorded crawl run (the store is the memory, so a
restarted scheduler picks up where it left off) or since this scheduler last tried it
(a crawl that failed as a whole is not retried in a tight loop): a daily source runs at
the same time each day. Sources run one after another; a stop request (SIGINT/SIGTERM
set ``stop``) is honoured between runs and ends the wait at once.

A source that another process is crawling now (its lock is held: crawler.source_lock,
say a crawl started by hand) is not due until that crawl ends; a run recorded as begun
whose lock is free was killed, and does not count (the source is crawled again at once,
and the crawl resumes what the killed one left).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crawler import source_lock
from crawler.revisits import RUNS_LOOKED_AT
from crawler.source import Source
from indexer.model import utcnow

MAX_SLEEP_S = 300.0
RETRY = timedelta(seconds=MAX_SLEEP_S)  # after the store could not be read


def interval_hours(source: Source) -> float:
    return source.crawl_every_hours or source.revisit_hours


def last_started(store: Any, source_id: str) -> datetime | None:
    """The start of the source's last run that ended. A run killed before its end (a
    reboot) does not count: the next scheduler starts the source again at once, and the
    crawl resumes what the killed one left."""
    ended = [r for r in store.crawl_runs(source_id, limit=RUNS_LOOKED_AT) if r.ended]
    return ended[0].started if ended else None


def due_in(source: Source, last: datetime | None, now: datetime) -> timedelta:
    """How long until the source is due (zero or less: due now)."""
    if last is None:
        return timedelta(0)
    return last + timedelta(hours=interval_hours(source)) - now


@dataclass
class Scheduler:
    sources: Sequence[Source]
    store_url: str
    archive_dir: str | Path
    say: Callable[[str], None] = print
    stop: threading.Event = field(default_factory=threading.Event)
    crawl_settings: dict[str, Any] | None = None
    attempted: dict[str, datetime] = field(default_factory=dict)
    attempt_ended: dict[str, datetime] = field(default_factory=dict)
    after_run: Callable[[], None] | None = None  # e.g. signals and alerts, from the CLI layer

    def _last(self, store: Any, source: Source) -> datetime | None:
        """When the source's last run began: its recorded start, or this scheduler's last
        try. A run this scheduler started (recorded between its try and the try's end)
        counts from the try: its recorded start is the seconds a crawl takes to start up
        later, which would otherwise push every next run that much later. A crawl of the
        source under way elsewhere counts as begun now: not due while it runs."""
        if source_lock.under_way(self.archive_dir, source.id) is not None:
            return utcnow()
        started = last_started(store, source.id)
        tried, ended = self.attempted.get(source.id), self.attempt_ended.get(source.id)
        if started and tried and ended and tried <= started <= ended:
            return tried
        found = [t for t in (started, tried) if t]
        return max(found) if found else None

    def waits(self, now: datetime) -> dict[str, timedelta]:
        """Per enabled source, the time until it is due."""
        from indexer.store import open_store

        store = open_store(self.store_url)
        try:
            return {s.id: due_in(s, self._last(store, s), now)
                    for s in self.sources if s.enabled}
        finally:
            store.close()

    def run_due(self) -> int:
        """Crawl every due source once (stopping early if asked); the number crawled."""
        from crawler.run import CrawlError, crawl

        waits = self.waits(utcnow())
        due = [s for s in self.sources if s.id in waits and waits[s.id] <= timedelta(0)]
        done = 0
        for source in due:
            if self.stop.is_set():
                break
            self.attempted[source.id] = utcnow()
            self.attempt_ended.pop(source.id, None)
            self.say(f"crawling {source.id} …")
            try:
                stats = crawl([source], self.store_url, self.archive_dir, progress=False,
                              settings=self.crawl_settings)
            except CrawlError as exc:
                self.say(f"{source.id}: crawl failed: {exc}")
                continue
            finally:
                self.attempt_ended[source.id] = utcnow()
            for line in stats.lines():
                self.say(line)
            if not stats.refused():  # another process took it first: nothing was crawled
                done += 1
        if done and self.after_run is not None:
            self.after_run()
        return done

    def forever(self) -> None:
        """Run due sources, sleep until the next is due, until ``stop`` is set. A store
        that cannot be read (a server down for a while) is said, and tried again after
        MAX_SLEEP_S: the schedule outlives it, as the crawls do (they spool)."""
        from indexer.store import StoreError

        while not self.stop.is_set():
            try:
                self.run_due()
                waits = {} if self.stop.is_set() else self.waits(utcnow())
            except StoreError as exc:
                self.say(f"store unavailable: {exc}; trying again in {_human(RETRY)}")
                self.stop.wait(RETRY.total_seconds())
                continue
            if self.stop.is_set():
                break
            if not waits:
                self.say("no enabled sources; stopping")
                return
            sid, wait = min(waits.items(), key=lambda kv: kv[1])
            seconds = max(1.0, min(MAX_SLEEP_S, wait.total_seconds()))
            self.say(f"waiting: next is {sid} in {_human(wait)}")
            self.stop.wait(seconds)
        self.say("stopped")


def _human(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds // 60} min {seconds % 60} s"
