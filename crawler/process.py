"""The crawl child process: ``python -m crawler.process`` < job.json > stats.json.

A Twisted reactor cannot be restarted in one process, and tests and the demo crawl
many times, so every crawl runs here. The job (JSON on stdin) names the sources, the
store, the archive and the clock; the per-source stats come back as one JSON object on
stdout. Everything else (logs, progress) goes to stderr.

Ctrl-C stops the crawl as Scrapy stops it: gracefully on the first, at once on the
second. The command starts this process with SIGINT blocked (crawler.interrupts), and
it is unblocked once Scrapy's handler is in place, so a Ctrl-C while the process starts
is taken then. Started otherwise (by hand), a Ctrl-C before that ends it with 130 and a
line saying it was interrupted before it began fetching (Scrapy is imported in
``run_job``, so most of that start-up is inside ``main``).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from datetime import datetime
from typing import Any

from crawler import gc_policy
from crawler.clock import Clock
from crawler.parent_death import end_with_parent
from crawler.source import Source
from indexer.crawl_runs import error_kinds_of


def begin_run(store_url: str, source_id: str, run_start: datetime,
              read_known: bool) -> tuple[list[tuple[str, str, str, list[str]]], str]:
    """Put the run on record as begun, before anything is fetched, and (if
    ``read_known``) read (site_ad_id, url, start of the run that last captured it, the
    sections that listed it) of the source's live ads in the store: what to revisit
    once their interval has passed, and which absences from the listings count.
    Returns them, and why the store could not be read ('' if it could).

    On record from here: a crawl killed before its ingest worker opened the store (it
    loads spaCy meanwhile, while the crawl fetches) is still seen as a run that never
    ended. The worker records the same run as begun again (the same record)."""
    if not store_url:
        return [], ""
    from crawler.revisits import RUNS_LOOKED_AT, seen_at_run_start
    from indexer.crawl_runs import run_begun
    from indexer.model import to_iso
    from indexer.store import open_store
    from indexer.store.base import StoreError

    log = logging.getLogger(__name__)
    try:
        store = open_store(store_url)
        try:
            try:
                store.record_crawl_run(run_begun(source_id, run_start))
            except StoreError as exc:  # the worker tries again; the known ads may still read
                log.error("run of %s not put on record as begun: %s", source_id, exc)
            if not read_known:
                return [], ""
            runs = store.crawl_runs(source_id, limit=RUNS_LOOKED_AT)
            return [(ad.site_ad_id, ad.url, to_iso(seen_at_run_start(ad.last_seen, runs)),
                     list(ad.listed_in)) for ad in store.live_ads(source_id)], ""
        finally:
            store.close()
    except StoreError as exc:  # the crawl goes on from the listings; ads go to the spool
        log.error("store unavailable, no revisits of %s: %s", source_id, exc)
        return [], f"store unavailable at the start ({exc})" if read_known else ""


def spider_class(source: Source) -> Any:
    """The spider the source names (crawler.spiders.spider_named)."""
    from crawler.spiders import UnknownSpider, spider_named

    try:
        return spider_named(source.spider)
    except UnknownSpider as exc:
        raise CrawlFailed(f"{source.path or source.id}: spider: {exc}") from None


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Crawl every source of the job in one reactor; return stats per source id. A source
    another process is crawling is not crawled (crawler.source_lock): its entry says
    why, and the others go on."""
    from scrapy.crawler import Crawler, CrawlerProcess

    from crawler import source_lock
    from crawler.register import source_from_dict
    from crawler.settings import scrapy_settings
    from indexer.model import to_iso, utcnow

    sources: list[Source] = [source_from_dict(s) for s in job["sources"]]
    store_url = job.get("store_url", "")
    known_given: dict[str, list[list[Any]]] = job.get("known_ads") or {}
    process = CrawlerProcess({"LOG_LEVEL": job.get("log_level", "WARNING")})
    levels: list[int] = []
    crawlers: dict[str, Crawler] = {}
    sigint = _SigintWhenRunning()
    failures: list[str] = []
    refused: dict[str, str] = {}
    for source in sources:
        try:
            lock = source_lock.hold(job["archive_dir"], source.id, to_iso(utcnow()))
        except source_lock.SourceBusy as exc:
            refused[source.id] = str(exc)
            continue
        settings = scrapy_settings(
            source, store_url=store_url, archive_dir=job["archive_dir"],
            clock_start=job.get("clock_start", ""), progress=job.get("progress", True),
            overrides=job.get("settings"))
        levels.append(_level(settings.get("LOG_LEVEL", "DEBUG")))
        try:
            run_clock = Clock.from_setting(settings.get("ADTRACE_CLOCK_START"))
        except ValueError as exc:
            raise CrawlFailed(f"{source.id}: {exc}") from None
        run_start = run_clock.first_reading
        spider = spider_class(source).for_source(source, settings)
        known = known_given.get(source.id)
        read, unknown = begin_run(store_url, source.id, run_start, read_known=known is None)
        known_ads = [tuple(k) for k in known] if known is not None else read
        crawler = process.create_crawler(spider)
        crawlers[source.id] = crawler
        done = process.crawl(crawler, source=source, known_ads=known_ads, run_clock=run_clock,
                             known_ads_unread=unknown)
        done.addErrback(_failed, source.id, failures)
        done.addBoth(_released, lock)
        sigint.wait_for(crawler, done)
    _quiet_scrapy_below(min(levels, default=logging.NOTSET))
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").addFilter(_no_network_traceback)
    gc_policy.for_long_run()
    if crawlers:
        sigint.arm()
        process.start()
    if failures:
        raise CrawlFailed("; ".join(failures))
    return {s.id: {"refused": refused[s.id]} if s.id in refused else _stats(crawlers[s.id])
            for s in sources}


class _SigintWhenRunning:
    """Unblocks SIGINT (the command started this process with it blocked:
    crawler.interrupts) once Scrapy's handler is in place (the reactor has run its
    startup triggers) and every crawler of the job has its engine running or has ended:
    a graceful stop then closes each spider as a run that ended (``shutdown``, recorded
    by crawler.pipelines), and a Ctrl-C that came meanwhile is taken then. Taken before
    an engine ran, Scrapy's stop found it "not running" and stopped the reactor with
    that spider neither closed nor its run recorded.

    Checked when an engine starts, not on a timer: a small site is crawled in tens of
    milliseconds, and a check that came after its crawl had ended took the Ctrl-C too
    late to stop anything."""

    RECHECK_S = 0.001  # an engine sets ``running`` just after its engine_started signal

    def __init__(self) -> None:
        self._waiting: dict[int, Any] = {}
        self._armed = False

    def wait_for(self, crawler: Any, done: Any) -> None:
        """Wait for this crawler's engine too, or for its crawl to be ``done``."""
        from scrapy import signals

        self._waiting[id(crawler)] = crawler
        crawler.signals.connect(self._engine_started, signal=signals.engine_started)
        done.addBoth(self._ended, id(crawler))

    def arm(self) -> None:
        """Check first on the reactor's first turn, after its startup triggers (Scrapy's
        handler is one)."""
        from twisted.internet import reactor

        reactor.callWhenRunning(self._armed_now)

    def _armed_now(self) -> None:
        self._armed = True
        self._check_soon()

    def _engine_started(self, **_: Any) -> None:
        self._check_soon()

    def _ended(self, result: Any, key: int) -> Any:
        self._waiting.pop(key, None)
        self._check_soon()
        return result

    def _check_soon(self) -> None:
        from twisted.internet import reactor

        reactor.callLater(0, self._check)

    def _check(self) -> None:
        from twisted.internet import reactor

        from crawler.interrupts import take_sigint

        if not self._armed:
            return
        starting = False
        for key, crawler in list(self._waiting.items()):
            engine = crawler.engine
            if engine is not None and engine.running:
                del self._waiting[key]
            elif engine is not None and engine.start_time is not None:
                starting = True  # its engine_started signal was sent: running is next
        if not self._waiting:
            take_sigint()
        elif starting:
            reactor.callLater(self.RECHECK_S, self._check)


def _level(value: Any) -> int:
    """A LOG_LEVEL setting (name or number) as a number; unknown → NOTSET (log all)."""
    if isinstance(value, int):
        return value
    number = logging.getLevelName(str(value).upper())
    return number if isinstance(number, int) else logging.NOTSET


def _quiet_scrapy_below(level: int) -> None:
    """Scrapy's root handler filters by the crawl's LOG_LEVEL, but leaves the root logger
    at NOTSET, so every request's "Crawled" and every item's "Scraped from" debug record
    was built and then dropped; a level on the "scrapy" logger skips them before they are
    made (the lowest LOG_LEVEL of the job's crawlers: nothing they would show is lost)."""
    logging.getLogger("scrapy").setLevel(level)


def _no_network_traceback(record: logging.LogRecord) -> bool:
    """Scrapy's robots.txt middleware logs a site that is down with a traceback (three
    chained exceptions) although its line says it all already; for a timeout or a
    connection that failed the traceback is left out (any other error keeps it)."""
    from crawler.error_kinds import failure_kind

    exc = record.exc_info[1] if record.exc_info else None
    if exc is not None and failure_kind(exc) in ("timeout", "connection"):
        record.exc_info, record.exc_text = None, None
    return True


class CrawlFailed(RuntimeError):
    """A crawler could not run at all (bad settings, store unreachable, …)."""


def _failed(failure: Any, source_id: str, failures: list[str]) -> None:
    failures.append(f"{source_id}: {failure.getErrorMessage()}")


def _released(result: Any, lock: int) -> Any:
    """The source's crawl ended (or failed): its lock goes back at once, not at the end
    of the job's other crawls."""
    from crawler import source_lock

    source_lock.release(lock)
    return result


def _stats(crawler: Any) -> dict[str, Any]:
    from crawler.run import STAT_KEYS

    stats = crawler.stats.get_stats() if crawler.stats else {}
    out: dict[str, Any] = {k: int(stats.get(f"adtrace/{k}", 0)) for k in STAT_KEYS}
    out["error_kinds"] = dict(error_kinds_of(stats))
    out["spooled"] = int(stats.get("adtrace/spooled", 0))
    out["skipped"] = int(stats.get("adtrace/skipped", 0))
    # as the run record has it (from the run's start), else Scrapy's (no record: spooled)
    out["duration"] = float(stats.get("adtrace/duration", stats.get("elapsed_time_seconds", 0.0)))
    out["finish_reason"] = str(stats.get("finish_reason", ""))
    return out


INTERRUPTED_EXIT = 130  # as a shell says it (started by hand: see the module docstring)


def main() -> int:
    job = json.load(sys.stdin)
    if job.get("parent_pid"):  # adtrace crawl/schedule killed: stop gracefully
        end_with_parent(int(job["parent_pid"]), signal.SIGTERM)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # keep stdout for the one JSON answer
    try:
        result = run_job(job)
    except CrawlFailed as exc:
        print(f"crawl failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before Scrapy took SIGINT over: nothing fetched yet
        print("crawl interrupted before it began fetching", file=sys.stderr)
        return INTERRUPTED_EXIT
    finally:
        sys.stdout = real_stdout
    try:
        real_stdout.write(json.dumps(result) + "\n")
        real_stdout.flush()
    except BrokenPipeError:  # the parent is gone: the run record says what the crawl did
        os.dup2(os.open(os.devnull, os.O_WRONLY), real_stdout.fileno())  # no flush at exit
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
