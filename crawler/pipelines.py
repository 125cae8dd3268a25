"""Thin item pipeline: hand each ad to the indexer, record removals.

Built from settings (``ADTRACE_STORE_URL``; unset → NotConfigured, the crawl then only
archives). The store and the ingestor are opened in ``open_spider`` and closed in
``close_spider``; outcomes are counted in the crawl stats for CrawlStats.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import AdItem, RemovalItem
from crawler.register import source_info
from indexer.model import Observation


class IngestPipeline:
    def __init__(self, crawler: Crawler, store_url: str) -> None:
        self.crawler = crawler
        self.store_url = store_url
        self.store: Any = None
        self.ingestor: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestPipeline:
        store_url = crawler.settings.get("ADTRACE_STORE_URL")
        if not store_url:
            raise NotConfigured("ADTRACE_STORE_URL is not set")
        return cls(crawler, store_url)

    def open_spider(self, spider: Any = None) -> None:
        from indexer.ingest import Ingestor
        from indexer.store import open_store

        self.store = open_store(self.store_url)
        self.ingestor = Ingestor(self.store)
        source = self.crawler.spider.source  # type: ignore[union-attr]
        self.ingestor.register_source(source_info(source))

    def close_spider(self, spider: Any = None) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, AdItem):
            self._ingest(item)
        elif isinstance(item, RemovalItem) and self.ingestor.mark_removed(
                item.source_id, item.site_ad_id, item.at, item.reason):
            self._count("removed")
        return item

    def _ingest(self, item: AdItem) -> None:
        obs = Observation(source_id=item.source_id, site_ad_id=item.site_ad_id, url=item.url,
                          capture=item.capture, fields=item.fields)
        result = self.ingestor.ingest(obs)
        self._count("ads_seen")
        if result.new_ad:
            self._count("new_ads")
        elif result.new_version:
            self._count("new_versions")
        else:
            self._count("unchanged")

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(f"adtrace/{key}")  # type: ignore[union-attr]
