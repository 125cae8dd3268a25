"""Thin item pipeline: hand ads to the indexer in small batches, record removals and the run.

Built from settings (``ADTRACE_STORE_URL``; unset → NotConfigured, the crawl then only
archives). Ads go in batches of ``ADTRACE_INGEST_BATCH`` to the ingest worker
(crawler.ingest_worker: a second process, so images, spaCy and the store use the other
core), or, with ``ADTRACE_INGEST_WORKER`` off or no worker to be had, to the same work
done here (crawler.ingest_core). Either way the images are stored and inspected, the
ads enriched and written through ``Ingestor.ingest_many`` in order, and what they did
(counters, errors with their URLs) comes back to this crawl's stats.
Crash safety does not depend on the batch: every page is in the WARC before its item
gets here, and what the spider read from it is in the run's journal (crawler.journal)
until the batch is written, so the next crawl of the source writes what a kill lost
before it writes anything else (crawler.journal_replay); on Elasticsearch, it first
undoes or finishes a write a kill cut half-way (crawler.ingest_core). A run that
ends with everything written deletes its journal. The batch is handed
over before any removal (a removal must follow the ad's last write) and when the spider
closes.

When the spider closes, everything handed over is written first; then ads missing from
enough complete listings are marked removed (crawler.revisits) and the run is recorded
in the store (indexer.crawl_runs).

When the store is unavailable (at open or during the crawl) the crawl goes on: pages are
in the archive already, and what the store did not take goes to the spool
(indexer.spool, ``spool.jsonl`` beside the archive unless ``ADTRACE_SPOOL`` says
otherwise), replayed at the start of the next crawl that finds the store up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import AdItem, RemovalItem
from crawler.register import source_info
from crawler.revisits import removals_by_absence, streak_missing
from indexer.crawl_runs import CrawlRun, error_kinds_of
from indexer.model import to_iso

log = logging.getLogger(__name__)


class IngestPipeline:
    def __init__(self, crawler: Crawler, store_url: str, batch_size: int,
                 use_worker: bool = True) -> None:
        self.crawler = crawler
        self.store_url = store_url
        self.batch_size = max(1, batch_size)
        self.use_worker = use_worker
        self.worker: Any = None  # crawler.ingest_worker.WorkerClient
        self.core: Any = None  # crawler.ingest_core.IngestCore, when there is no worker
        self.spooling = False
        self._ready = False  # the worker said it opened the store (or the spool)
        self.pending: list[AdItem] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestPipeline:
        store_url = crawler.settings.get("ADTRACE_STORE_URL")
        if not store_url:
            raise NotConfigured("ADTRACE_STORE_URL is not set")
        pipe = cls(crawler, store_url, crawler.settings.getint("ADTRACE_INGEST_BATCH", 64),
                   crawler.settings.getbool("ADTRACE_INGEST_WORKER", True))
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self, spider: Any = None) -> None:
        """Start the worker (its answer is awaited at the first batch: it loads spaCy and
        opens the store while the crawl fetches its first pages), or open the store here."""
        from crawler.ingest_worker import WorkerClient

        spider = self._spider()
        if getattr(spider, "journal", None) is not None:  # a killed run's journal comes here
            spider.hand_over = self.process_item  # first (GenericSpider.replay)
        if self.use_worker:
            try:
                self.worker = WorkerClient(self._core_config())
                return
            except OSError as exc:
                log.warning("no ingest worker (%s); ingesting in the crawl process", exc)
        self._log(self._start_core(self._core_config()))

    def _worker_ready(self) -> bool:
        """Whether the worker is there to take work (waits for its start once)."""
        from crawler.ingest_worker import WorkerGone

        if self.worker is None:
            return False
        if self._ready:
            return True
        try:
            line, self.spooling = self.worker.wait_ready()
        except WorkerGone as exc:
            log.warning("%s; ingesting in the crawl process", exc)
            self.worker.close()
            self.worker = None
            self._log(self._start_core(self._core_config()))
            return False
        self._ready = True
        self._log(line)
        return True

    @staticmethod
    def _log(line: str) -> None:
        if line:
            log.info("%s", line)

    def _start_core(self, config: dict[str, Any]) -> str:
        from crawler.ingest_core import IngestCore

        self.core = IngestCore.from_config(config)
        line = self.core.open()
        self.spooling = self.core.spooling
        return line

    def close_spider(self, spider: Any = None) -> None:
        self.flush()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, AdItem):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size:
                self.flush()
        elif isinstance(item, RemovalItem):
            self.flush()
            self._send(("removal", item))
        return item

    # ------------------------------------------------------------------ batches
    def flush(self) -> None:
        """Hand the pending ads over (to the worker, or written here)."""
        batch, self.pending = self.pending, []
        if batch:
            self._send(("ads", batch))

    def _send(self, message: tuple[str, Any]) -> None:
        from crawler.ingest_worker import WorkerGone

        if self._worker_ready():
            try:
                self.worker.submit(message)
                for outcome in self.worker.poll():
                    self._apply(outcome)
                return
            except WorkerGone as exc:
                if any(m is message for m in self._lose_worker(exc)):
                    return  # handed over before the failure: done again already
        self._do_here(message)

    def _lose_worker(self, exc: Exception) -> list[tuple[str, Any]]:
        """The worker is gone: what it did not confirm is done again here (store writes
        are idempotent), and so is everything after."""
        for outcome in self.worker.take_received():  # confirmed before it went: counted
            self._apply(outcome)
        redo = self.worker.unconfirmed()
        log.error("%s; ingesting in the crawl process from now on (%d batch(es) it did not "
                  "confirm are written again)", exc, len(redo))
        with contextlib.suppress(Exception):
            self.worker.close()
        self.worker = None
        self._log(self._start_core(self._core_config()))
        for message in redo:
            self._do_here(message)
        return redo

    def _do_here(self, message: tuple[str, Any]) -> None:
        self._apply(self.core.ads(message[1]) if message[0] == "ads"
                    else self.core.removal(message[1]))

    def _core_config(self) -> dict[str, Any]:
        from indexer.spool import SPOOL_FILE

        settings = self.crawler.settings
        return {"store_url": self.store_url,
                "archive_dir": str(settings.get("ADTRACE_ARCHIVE_DIR") or "."),
                "spool": str(settings.get("ADTRACE_SPOOL") or Path(
                    settings.get("ADTRACE_ARCHIVE_DIR") or ".").parent / SPOOL_FILE),
                "source_info": dataclasses.asdict(source_info(self._spider().source)),
                # recorded as begun where the store opens: never a begun run that spools
                "run_started": to_iso(self._spider().run_start),
                "journal": str(j.path) if (j := getattr(self._spider(), "journal", None)) else ""}

    def _apply(self, outcome: Any) -> None:
        for key, n in outcome.counts.items():
            self.crawler.stats.inc_value(f"adtrace/{key}", n)  # type: ignore[union-attr]
        for url, reason in outcome.errors:  # an ad the worker could not store (or its photos)
            self._spider().record_error(url, reason, "ingest")

    def _drain(self) -> None:
        """Wait until everything handed over is written."""
        from crawler.ingest_worker import WorkerGone

        if not self._worker_ready():
            return
        try:
            self.worker.finish(self._apply)
        except WorkerGone as exc:
            self._lose_worker(exc)
        self.worker = None

    # ------------------------------------------------------------------ end of run
    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        """Everything handed over is written first; then removals by absence, the run
        record and the sections that listed each ad, through a store opened here (the
        worker has closed its own)."""
        from indexer.store import open_store
        from indexer.store.base import StoreError

        self.flush()
        self._drain()
        if self.core is not None:
            self.core.close()
        self._discard_journal()
        if self.spooling:  # the store was unavailable at the start: the ads went to the spool
            self._record_spooled_run(reason)
            return
        store = open_store(self.store_url)
        try:
            store.record_crawl_run(self._finish_run(store, reason))
            try:
                spider = self._spider()
                store.note_listed(spider.source.id, spider.sections_to_note())
            except StoreError as exc:  # the next run notes them again: nothing is lost
                log.warning("sections that listed the ads not noted: %s", exc)
        finally:
            store.close()

    def _discard_journal(self) -> None:
        """Everything the spider journaled, or replayed from earlier runs' journals, was
        handed over and written (or spooled): those journals have nothing left to replay.
        An ad page not read yet (a stop while it waited for the spider), or an ad whose
        photos never came (its item never made), keeps them all, and the next crawl
        replays them again."""
        spider = self._spider()
        if getattr(spider, "journal", None) is None:
            return
        if spider.unhanded:
            spider.journal.close()
            log.warning("%s: %d ad page(s) not read or ad(s) not handed over; the next "
                        "crawl hands them over from %s", spider.source.id, spider.unhanded,
                        spider.journal.path)
            return
        spider.journal.discard()
        for path in spider.replayed_journals:  # what they left was handed over, and written
            path.unlink(missing_ok=True)

    def _record_spooled_run(self, reason: str) -> None:
        """The end of a run whose ads went to the spool, if the store takes it now: the
        run may be on record as begun (crawler.process.begin_run), and, left so, it would
        read as killed and be mended as one. It removes nothing by absence (its ads are
        not in the store yet); a store still down leaves it as it is, and says so."""
        from indexer.store import open_store
        from indexer.store.base import StoreError

        try:
            store = open_store(self.store_url)
        except StoreError as exc:
            log.warning("run end not recorded (its ads are in the spool): %s", exc)
            return
        try:
            store.record_crawl_run(self._finish_run(store, reason, spooled=True))
        except StoreError as exc:
            log.warning("run end not recorded (its ads are in the spool): %s", exc)
        finally:
            store.close()

    def _finish_run(self, store: Any, reason: str, spooled: bool = False) -> CrawlRun:
        spider = self._spider()
        source = spider.source
        duration = spider.run_clock.elapsed()  # on the clock the run's start came from
        finished = spider.run_start + timedelta(seconds=duration)
        self.crawler.stats.set_value("adtrace/duration", round(duration, 3))  # type: ignore[union-attr]
        # a run stopped early (a signal, a close-spider limit) left listing pages unread;
        # a spooled run's ads are not in the store yet: neither removes by absence
        complete = spider.listings_complete and reason == "finished" and not spooled
        not_listed = spider.missing_from_listings()
        earlier = (store.crawl_runs(source.id, limit=max(10, 4 * source.missing_runs_before_removed))
                   if not_listed else [])
        # an incomplete run records the ads of rows under way it did not list: one it did
        # list is not gone (crawler.revisits)
        missing = tuple(not_listed) if complete else streak_missing(not_listed, earlier)
        if missing and complete:
            why = (f"missing from complete listings in {source.missing_runs_before_removed} "
                   "consecutive run(s)")
            for site_ad_id in removals_by_absence(missing, earlier,
                                                  source.missing_runs_before_removed):
                if store.mark_removed(source.id, site_ad_id, finished, why):
                    self._count("removed")
        get = self.crawler.stats.get_value  # type: ignore[union-attr]
        return CrawlRun(
            source_id=source.id, started=spider.run_start, finished=finished,
            pages=int(get("adtrace/pages", 0)), new_ads=int(get("adtrace/new_ads", 0)),
            new_versions=int(get("adtrace/new_versions", 0)),
            unchanged=int(get("adtrace/unchanged", 0)), removed=int(get("adtrace/removed", 0)),
            errors=int(get("adtrace/errors", 0)), error_samples=tuple(spider.error_samples),
            error_kinds=error_kinds_of(self.crawler.stats.get_stats()),  # type: ignore[union-attr]
            duration=round(duration, 3), finish_reason=reason,
            listings_complete=complete, missing=missing,
        )

    def _spider(self) -> Any:
        return self.crawler.spider

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(f"adtrace/{key}")  # type: ignore[union-attr]

