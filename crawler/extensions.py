"""Crawl monitor: count errors nobody else sees, print progress to stderr.

Parse failures (exceptions in callbacks) and pipeline failures arrive as signals; they
are counted per source and never stop the crawl.
"""

from __future__ import annotations

import sys
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.run import SUMMARY_KEYS
from indexer.crawl_runs import count_error


class CrawlMonitor:
    def __init__(self, crawler: Crawler, progress: bool, every: int = 25) -> None:
        self.crawler = crawler
        self.progress = progress
        self.every = every

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlMonitor:
        ext = cls(crawler, crawler.settings.getbool("ADTRACE_PROGRESS", True))
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _source_id(self) -> str:
        source = getattr(getattr(self.crawler, "spider", None), "source", None)
        return getattr(source, "id", "?")

    def _record(self, url: str, reason: str, kind: str) -> None:
        """Count the error (of its kind: indexer.crawl_runs.ERROR_KINDS); the spider keeps
        a sample (URL, reason) for the run record."""
        record = getattr(getattr(self.crawler, "spider", None), "record_error", None)
        if callable(record):
            record(url, reason, kind)
        else:
            count_error(self.crawler.stats, kind)
        self._say(f"{url}: {reason}")

    def spider_error(self, failure: Any, response: Any = None, spider: Any = None) -> None:
        self._record(getattr(response, "url", "?"), f"parse error: {failure.getErrorMessage()}",
                     "page")

    def item_error(self, item: Any, response: Any = None, spider: Any = None,
                   failure: Any = None) -> None:
        self._record(getattr(item, "url", "?"),
                     f"could not store: {failure.getErrorMessage() if failure else '?'}",
                     "ingest")

    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        stats = self.crawler.stats
        n = stats.get_value("item_scraped_count", 0)  # type: ignore[union-attr]
        if self.progress and n and n % self.every == 0:
            self._say(self.summary())

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.progress:
            self._say(self.summary() + f" — done ({reason})")

    def summary(self) -> str:
        get = self.crawler.stats.get_value  # type: ignore[union-attr]
        return " ".join(f"{k}={get('adtrace/' + k, 0)}" for k in SUMMARY_KEYS)

    def _say(self, text: str) -> None:
        if self.progress:
            print(f"[crawl {self._source_id()}] {text}", file=sys.stderr, flush=True)
