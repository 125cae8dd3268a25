"""Thin item pipeline: hand ads to the indexer in small batches, record removals and the run.

Built from settings (``ADTRACE_STORE_URL``; unset → NotConfigured, the crawl then only
archives). Ads are enriched and written through ``Ingestor.ingest_many`` in batches of
``ADTRACE_INGEST_BATCH`` (spaCy's pipe and one transaction per batch are much faster).
Crash safety does not depend on the batch: every page is in the WARC before its item
gets here, and an ad whose write a kill lost is not in the store (or has its old last
seen), so the next run fetches it again. The batch is flushed before any removal (a
removal must follow the ad's last write) and when the spider closes.

When the spider closes, ads missing from enough complete listings are marked removed
(crawler.revisits) and the run is recorded in the store (indexer.crawl_runs).

When the store is unavailable (at open or during the crawl) the crawl goes on: pages are
in the archive already, and what the store did not take goes to the spool
(indexer.spool, ``spool.jsonl`` beside the archive unless ``ADTRACE_SPOOL`` says
otherwise), replayed at the start of the next crawl that finds the store up.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import AdItem, RemovalItem
from crawler.register import source_info
from crawler.revisits import removals_by_absence
from indexer.crawl_runs import CrawlRun
from indexer.model import Observation, WriteResult

log = logging.getLogger(__name__)


class IngestPipeline:
    def __init__(self, crawler: Crawler, store_url: str, batch_size: int) -> None:
        self.crawler = crawler
        self.store_url = store_url
        self.batch_size = max(1, batch_size)
        self.store: Any = None
        self.ingestor: Any = None
        self.pending: list[AdItem] = []
        self._t0 = time.monotonic()
        self.spool: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestPipeline:
        store_url = crawler.settings.get("ADTRACE_STORE_URL")
        if not store_url:
            raise NotConfigured("ADTRACE_STORE_URL is not set")
        pipe = cls(crawler, store_url, crawler.settings.getint("ADTRACE_INGEST_BATCH", 32))
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self, spider: Any = None) -> None:
        from indexer.ingest import Ingestor
        from indexer.spool import SPOOL_FILE, Spool
        from indexer.store import open_store
        from indexer.store.base import StoreError

        self._t0 = time.monotonic()
        settings = self.crawler.settings
        self.spool = Spool(settings.get("ADTRACE_SPOOL") or Path(
            settings.get("ADTRACE_ARCHIVE_DIR") or ".").parent / SPOOL_FILE)
        info = source_info(self._spider().source)
        try:
            self.store = open_store(self.store_url)
            self.ingestor = Ingestor(self.store)
            self.ingestor.register_source(info)
        except StoreError as exc:
            log.error("store unavailable, spooling to %s: %s", self.spool.path, exc)
            if self.store is not None:
                self.store.close()
            self.store = self.ingestor = None
            self.spool.add_source(info)
            return
        replayed = self.spool.replay(self.ingestor)
        if replayed.replayed or replayed.left:
            log.info("spool %s: replayed %d, %d left %s", self.spool.path, replayed.replayed,
                     replayed.left, replayed.error)

    def close_spider(self, spider: Any = None) -> None:
        self.flush()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, AdItem):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size:
                self.flush()
        elif isinstance(item, RemovalItem):
            self.flush()
            if self.ingestor is None:
                self.spool.add_removal(item.source_id, item.site_ad_id, item.at, item.reason)
            elif self.ingestor.mark_removed(item.source_id, item.site_ad_id, item.at,
                                          item.reason):
                self._count("removed")
        return item

    # ------------------------------------------------------------------ batches
    def flush(self) -> None:
        """Write the pending ads; a failing batch is retried one ad at a time so one bad
        ad costs only itself (counted as an error with its URL)."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        if self.ingestor is None:
            for item in batch:
                self._to_spool(item)
            return
        try:
            results = self.ingestor.ingest_many([_obs(i) for i in batch])
        except Exception as exc:  # noqa: BLE001 - fall back to one by one, below
            log.warning("batch of %d failed (%s); writing one by one", len(batch), exc)
            for item in batch:
                self._ingest_one(item)
            return
        for result in results:
            self._tally(result)

    def _ingest_one(self, item: AdItem) -> None:
        from indexer.store.base import StoreError

        try:
            self._tally(self.ingestor.ingest(_obs(item)))
        except StoreError as exc:
            log.error("store failed writing %s, spooled: %s", item.url, exc)
            self._to_spool(item)
        except Exception as exc:  # noqa: BLE001 - counted per source, the crawl goes on
            self._spider().record_error(item.url, f"could not store: {exc}")

    def _to_spool(self, item: AdItem) -> None:
        self.spool.add(_obs(item))
        self._count("spooled")

    def _tally(self, result: WriteResult) -> None:
        self._count("ads_seen")
        if result.new_ad:
            self._count("new_ads")
        elif result.new_version:
            self._count("new_versions")
        else:
            self._count("unchanged")

    # ------------------------------------------------------------------ end of run
    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.store is None:
            self.flush()  # into the spool
            return
        try:
            self.flush()
            run = self._finish_run(reason)
            self.store.record_crawl_run(run)
        finally:
            self.store.close()
            self.store = None

    def _finish_run(self, reason: str) -> CrawlRun:
        spider = self._spider()
        source = spider.source
        duration = time.monotonic() - self._t0
        finished = spider.run_start + timedelta(seconds=duration)
        missing = tuple(spider.missing_from_listings()) if spider.listings_complete else ()
        if spider.listings_complete and missing:
            earlier = self.store.crawl_runs(source.id, limit=max(10, 4 * source.
                                                                 missing_runs_before_removed))
            why = (f"missing from complete listings in {source.missing_runs_before_removed} "
                   "consecutive run(s)")
            for site_ad_id in removals_by_absence(missing, earlier,
                                                  source.missing_runs_before_removed):
                if self.ingestor.mark_removed(source.id, site_ad_id, finished, why):
                    self._count("removed")
        get = self.crawler.stats.get_value  # type: ignore[union-attr]
        return CrawlRun(
            source_id=source.id, started=spider.run_start, finished=finished,
            pages=int(get("adtrace/pages", 0)), new_ads=int(get("adtrace/new_ads", 0)),
            new_versions=int(get("adtrace/new_versions", 0)),
            unchanged=int(get("adtrace/unchanged", 0)), removed=int(get("adtrace/removed", 0)),
            errors=int(get("adtrace/errors", 0)), error_samples=tuple(spider.error_samples),
            duration=round(duration, 3), finish_reason=reason,
            listings_complete=spider.listings_complete, missing=missing,
        )

    def _spider(self) -> Any:
        return self.crawler.spider

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(f"adtrace/{key}")  # type: ignore[union-attr]


def _obs(item: AdItem) -> Observation:
    return Observation(source_id=item.source_id, site_ad_id=item.site_ad_id, url=item.url,
                       capture=item.capture, fields=item.fields)
