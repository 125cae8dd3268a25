"""A Scrapy crawl with the crawl's download handler that fetches pages through the
engine and, once they are with the downloader, photos beside it (``engine.download_async``,
as the generic spider fetches photos); prints each URL's path with its status or error (a child process
of tests/crawler/test_spider.py: Scrapy's reactor runs once per process)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess

from crawler.settings import BASE


def main() -> int:
    job = json.load(sys.stdin)
    got: dict[str, Any] = {}

    def note(url: str, outcome: Any) -> None:
        got[urlsplit(url).path] = outcome

    class Probe(scrapy.Spider):
        name = "probe"

        async def start(self) -> Any:
            self.in_downloader: set[str] = set()
            self.photos: list[asyncio.Future[None]] = []
            self.crawler.signals.connect(self.reached, signal=signals.request_reached_downloader)
            for url in job["pages"]:
                yield scrapy.Request(url, self.page, errback=self.failed, dont_filter=True)

        def reached(self, request: Any, spider: Any = None) -> None:
            """Once both pages are with the downloader (the engine's cap reached), fetch
            the photos beside the engine, as the spider fetches an ad's photos while the
            next pages are under way."""
            self.in_downloader.add(request.url)
            if set(job["pages"]) <= self.in_downloader and not self.photos:
                self.photos = [asyncio.ensure_future(self.photo(u)) for u in job["photos"]]

        def page(self, response: Any) -> None:
            note(response.url, response.status)

        def failed(self, failure: Any) -> None:
            note(failure.request.url, type(failure.value).__name__)

        async def photo(self, url: str) -> None:
            try:
                response = await self.crawler.engine.download_async(scrapy.Request(url))
                note(url, response.status)
            except Exception as exc:  # noqa: BLE001 - the outcome is what is printed
                note(url, type(exc).__name__)

    process = CrawlerProcess({
        "DOWNLOAD_HANDLERS": BASE["DOWNLOAD_HANDLERS"], "LOG_LEVEL": "ERROR",
        "ROBOTSTXT_OBEY": False, "RETRY_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
        "CONCURRENT_REQUESTS": 2, "CONCURRENT_REQUESTS_PER_DOMAIN": 2, "DOWNLOAD_TIMEOUT": 10})
    process.crawl(Probe)
    process.start()
    print(json.dumps(got))
    return 0


if __name__ == "__main__":
    sys.exit(main())
