"""Run each enabled source at its interval until stopped.

A source is due when its interval (``crawl_every_hours``, else ``revisit_hours``) has
passed since the start of its last recorded crawl run (the store is the memory, so a
restarted scheduler picks up where it left off) or since this scheduler last started it:
a daily source runs at the same time each day. A crawl that failed as a whole (its
process killed or timed out) does not count: it is tried again after a back-off (RETRY,
doubled after each failure in a row, at most the interval), not in a tight loop.
Sources run one after another; a stop request (SIGINT/SIGTERM set ``stop``) is honoured
between runs and ends the wait at once.

Given its folder (``register_dir``), the scheduler reads the source register again
before each decision to start a source, so the register, not the scheduler's memory,
says what may be crawled: a source whose file is gone (its approval withdrawn) or
disabled is not started again, a changed interval, politeness or selector applies from
its next run, and a new file is picked up (at the latest after the longest sleep,
MAX_SLEEP_S). A file that is not valid is not crawled, not even as it was before (an
entry that is not valid is not an approved one); the others carry on. A run under way
is not stopped: the register is read between runs. Each change is said once.

A source that another process is crawling now (its lock is held: crawler.source_lock,
say a crawl started by hand) is not due until that crawl ends; a run recorded as begun
whose lock is free was killed, and does not count: the source is due as if it had not
begun (at once, if its last run that ended began an interval ago), and the crawl resumes
what the killed one left. A run recorded as begun in the future (while the clock was
ahead) does not count either, and is said (once by each scheduler): the last run is the
newest one that ended of those begun by now, so the source is due as if the future one
had not run, not once that day and an interval more have come. This holds from the
store alone, for ``--once`` from cron (a new process each time) as for one restarted.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crawler import source_lock
from crawler.register import SourceError, load_register
from crawler.revisits import RUNS_LOOKED_AT
from crawler.source import Source
from indexer.model import to_iso, utcnow

MAX_SLEEP_S = 300.0
# after the store could not be read; after a crawl that failed, the first wait (doubled
# after each further failure in a row, up to the source's interval)
RETRY = timedelta(seconds=MAX_SLEEP_S)
# the runs read when the newest RUNS_LOOKED_AT all began in the future
RUNS_LOOKED_AT_PAST_AHEAD = 1000


def interval_hours(source: Source) -> float:
    return source.crawl_every_hours or source.revisit_hours


def last_started(store: Any, source_id: str, now: datetime | None = None
                 ) -> datetime | None:
    """The start of the source's last run that ended. A run killed before its end (a
    reboot) does not count: the next scheduler starts the source again at once, and the
    crawl resumes what the killed one left. Given ``now``, nor does a run begun later
    (``starts``)."""
    return starts(store, source_id, now)[0]


def starts(store: Any, source_id: str, now: datetime | None = None
           ) -> tuple[datetime | None, datetime | None]:
    """(the start of the source's last run that ended, of those begun at or before
    ``now``; the latest start recorded after ``now``, if any). A start in the future was
    recorded while the clock was ahead: counted, it would hold the source back until that
    day and an interval more, and a run begun since, at the right time, would not count
    until then. Runs are read newest first; when the newest ``RUNS_LOOKED_AT`` all began
    in the future, more are read (``RUNS_LOOKED_AT_PAST_AHEAD``), so that a long while
    ahead does not hide the runs before or since it."""
    runs = store.crawl_runs(source_id, limit=RUNS_LOOKED_AT)
    if (now is not None and len(runs) == RUNS_LOOKED_AT
            and all(r.started > now for r in runs)):
        runs = store.crawl_runs(source_id, limit=RUNS_LOOKED_AT_PAST_AHEAD)
    ahead = [r.started for r in runs if now is not None and r.started > now]
    ended = [r.started for r in runs if r.ended and (now is None or r.started <= now)]
    return (max(ended) if ended else None), (max(ahead) if ahead else None)


def due_in(source: Source, last: datetime | None, now: datetime) -> timedelta:
    """How long until the source is due (zero or less: due now)."""
    if last is None:
        return timedelta(0)
    return last + timedelta(hours=interval_hours(source)) - now


def scheduled(sources: Sequence[Source], only: Collection[str] = ()) -> list[Source]:
    """What a scheduler runs of the register's valid sources: the enabled ones (of
    ``only``, when it names any)."""
    return [s for s in sources if s.enabled and (not only or s.id in only)]


def register_changes(before: Sequence[Source], after: Sequence[Source],
                     valid: Sequence[Source], errors: Sequence[SourceError]) -> list[str]:
    """What changed between two readings of the register, one line each: sources dropped
    (and why), changed (which settings) or added. ``before``/``after`` are the scheduled
    sources, ``valid`` every valid source of the new reading, ``errors`` its invalid
    files."""
    old, new = {s.id: s for s in before}, {s.id: s for s in after}
    lines = [f"register: {sid}: dropped, not started again: "
             f"{_why_dropped(source, valid, errors)}"
             for sid, source in old.items() if sid not in new]
    lines += [f"register: {sid}: changed ({', '.join(_changed(old[sid], source))}); "
              "applies from its next run"
              for sid, source in new.items() if sid in old and old[sid] != source]
    lines += [f"register: {sid}: scheduled from now on ({source.path})"
              for sid, source in new.items() if sid not in old]
    return lines


def _why_dropped(source: Source, valid: Sequence[Source],
                 errors: Sequence[SourceError]) -> str:
    error = next((e for e in errors if source.id == e.source_id or source.path == e.path),
                 None)
    if error is not None:
        return f"its file {error.path} is not valid (the error is said apart)"
    now = next((s for s in valid if s.id == source.id), None)
    if now is not None and not now.enabled:
        return f"disabled in {now.path}"
    return f"{source.path} is gone and no file of the register names it"


def _changed(old: Source, new: Source) -> list[str]:
    """The settings that differ, with old and new value where that is a number or a
    flag (a proxy's value is never said: it may hold a password)."""
    out = []
    for f in dataclasses.fields(Source):
        was, now = getattr(old, f.name), getattr(new, f.name)
        if was == now:
            continue
        shown = isinstance(was, (int, float)) and isinstance(now, (int, float))
        out.append(f"{f.name} {was} -> {now}" if shown else f.name)
    return out


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
    # the register's folder, read again before each decision (None: ``sources`` stay)
    register_dir: str | Path | None = None
    only: Collection[str] = ()  # ``--source``: schedule these ids only
    errors: Sequence[SourceError] = ()  # the invalid files of the last reading
    now: Callable[[], datetime] = utcnow  # the clock (tests set it)
    # sources whose last run failed (the crawl process) or got no ad from the site
    # (CrawlStats.unreached), with why; ``--once`` exits 1 on them, as ``adtrace crawl`` does
    failed: dict[str, str] = field(default_factory=dict)
    # (source, start) of the runs recorded in the future that this scheduler has said
    said_ahead: set[tuple[str, datetime]] = field(default_factory=set)
    # per source whose crawl failed: failures in a row, and when it may be tried again
    failures: dict[str, int] = field(default_factory=dict)
    retry_at: dict[str, datetime] = field(default_factory=dict)

    def refresh(self) -> None:
        """Read the register again: what is scheduled from now on is what it says, and
        what changed is said (once: the next reading is compared with this one). A
        register that cannot be read at all starts nothing until it can."""
        if self.register_dir is None:
            return
        try:
            valid, errors = load_register(self.register_dir)
        except Exception as exc:  # the folder is gone, unreadable, …: no approved sources
            valid, errors = [], [SourceError(f"{self.register_dir}: register cannot be "
                                             f"read: {exc}", path=str(self.register_dir))]
        now = scheduled(valid, self.only)
        for line in register_changes(self.sources, now, valid, errors):
            self.say(line)
        said = {p for e in self.errors for p in e.problems}
        for error in errors:
            for problem in error.problems:
                if problem not in said:
                    self.say(f"register: not valid, not crawled: {problem}")
        self.sources, self.errors = now, errors

    def _last(self, store: Any, source: Source, now: datetime) -> datetime | None:
        """When the source's last run began: its recorded start (of those not in the
        future: ``starts``; one that is, is said once), or this scheduler's last try. A
        run this scheduler started (recorded between its try and the try's end) counts
        from the try: its recorded start is the seconds a crawl takes to start up later,
        which would otherwise push every next run that much later. A crawl of the source
        under way elsewhere counts as begun now: not due while it runs."""
        if source_lock.under_way(self.archive_dir, source.id) is not None:
            return self.now()
        started, ahead = starts(store, source.id, now)
        if ahead is not None and (source.id, ahead) not in self.said_ahead:
            self.said_ahead.add((source.id, ahead))
            self.say(f"{source.id}: a run is recorded as begun {to_iso(ahead)[:19]}Z, in the "
                     "future (was the clock ahead?); not counted")
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
            return {s.id: self._after_failure(s, due_in(s, self._last(store, s, now), now), now)
                    for s in self.sources if s.enabled}
        finally:
            store.close()

    def _after_failure(self, source: Source, wait: timedelta, now: datetime) -> timedelta:
        """``wait``, or longer while a failed crawl's back-off runs."""
        retry_at = self.retry_at.get(source.id)
        return wait if retry_at is None else max(wait, retry_at - now)

    def _failed(self, source: Source) -> timedelta:
        """After a crawl that failed as a whole (its process killed, say by the OOM
        killer, or timed out): the try does not count as a run, as a killed run does not
        for a scheduler started anew, so the source is due again after a back-off, not an
        interval: RETRY, doubled after each failure in a row (a crawl that fails at once
        is not started again and again), up to its interval. The back-off's wait."""
        self.attempted.pop(source.id, None)
        failures = self.failures[source.id] = self.failures.get(source.id, 0) + 1
        wait = min(RETRY * 2 ** min(failures - 1, 16), timedelta(hours=interval_hours(source)))
        self.retry_at[source.id] = self.now() + wait
        return wait

    def next_due(self, skip: Collection[str] = ()) -> Source | None:
        """One decision: read the register, then the first source due now (not in
        ``skip``), as the register defines it now."""
        self.refresh()
        waits = self.waits(self.now())
        return next((s for s in self.sources if s.id not in skip and s.id in waits
                     and waits[s.id] <= timedelta(0)), None)

    def run_due(self) -> int:
        """Crawl every due source once (stopping early if asked); the number crawled.
        The register is read again before each start: a source dropped while another
        ran is not started."""
        from crawler.run import CrawlError, CrawlInterrupted, crawl

        done = 0
        tried: set[str] = set()
        while not self.stop.is_set():
            source = self.next_due(tried)
            if source is None:
                break
            tried.add(source.id)
            self.attempted[source.id] = self.now()
            self.attempt_ended.pop(source.id, None)
            self.say(f"crawling {source.id} …")
            try:
                stats = crawl([source], self.store_url, self.archive_dir, progress=False,
                              settings=self.crawl_settings)
            except CrawlError as exc:
                self.say(f"{source.id}: crawl failed: {exc}; trying again in "
                         f"{_human(self._failed(source))}")
                self.failed[source.id] = f"crawl failed: {exc}"
                continue
            except CrawlInterrupted as stopped:  # Ctrl-C (--once), or a third one (forever)
                for line in stopped.stats.lines():
                    self.say(line)  # what the run did before it stopped; then no more
                raise
            finally:
                self.attempt_ended[source.id] = self.now()
            for line in stats.lines():
                self.say(line)
            self.failed.pop(source.id, None)
            self.failures.pop(source.id, None)
            self.retry_at.pop(source.id, None)
            for sid, why in stats.unreached().items():
                self.say(f"{sid}: {why}")
                self.failed[sid] = why
            if not stats.refused():  # another process took it first: nothing was crawled
                done += 1
        if done and self.after_run is not None:
            self.after_run()
        return done

    def forever(self) -> None:
        """Run due sources, sleep until the next is due, until ``stop`` is set. A store
        that cannot be read (a server down for a while) is said, and tried again after
        MAX_SLEEP_S: the schedule outlives it, as the crawls do (they spool). So does a
        register with nothing to schedule for now (every file disabled, gone or invalid):
        it is read again after MAX_SLEEP_S."""
        from indexer.store import StoreError

        while not self.stop.is_set():
            try:
                self.run_due()
                waits = {} if self.stop.is_set() else self.waits(self.now())
            except StoreError as exc:
                self.say(f"store unavailable: {exc}; trying again in {_human(RETRY)}")
                self.stop.wait(RETRY.total_seconds())
                continue
            if self.stop.is_set():
                break
            if not waits and self.register_dir is None:
                self.say("no enabled sources; stopping")
                return
            if not waits:
                self.say(f"no enabled valid sources now; reading the register "
                         f"{self.register_dir} again in {_human(RETRY)}")
                self.stop.wait(MAX_SLEEP_S)
                continue
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
