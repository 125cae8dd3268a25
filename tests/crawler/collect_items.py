"""Run one real Scrapy crawl of a source and print the items it yielded as JSON.

Items are collected through the ``item_scraped`` signal. Run as a child process by the
tests (a Twisted reactor cannot restart inside the pytest process). No store: the
ingest pipeline switches itself off (NotConfigured), the archive stays on.
"""

from __future__ import annotations

import json
import sys

from scrapy import signals
from scrapy.crawler import CrawlerProcess

from crawler.process import _stats
from crawler.register import source_from_dict
from crawler.settings import scrapy_settings
from crawler.spiders.generic import GenericSpider
from indexer.model import to_dict


def main() -> int:
    job = json.load(sys.stdin)
    source = source_from_dict(job["source"])
    settings = scrapy_settings(source, store_url="", archive_dir=job["archive_dir"],
                               clock_start=job.get("clock_start", ""), progress=False,
                               overrides={"DOWNLOAD_TIMEOUT": job.get("timeout", 5), "RETRY_TIMES": 0,
                                          **job.get("settings", {})})
    items: list[dict] = []

    def collect(item: object, response: object = None, spider: object = None) -> None:
        items.append({"kind": type(item).__name__, **to_dict(item)})

    # the job's settings go to the process too: some (TWISTED_DNS_RESOLVER) are read only there
    process = CrawlerProcess({"LOG_LEVEL": job.get("log_level", "ERROR"),
                              **job.get("settings", {})})
    crawler = process.create_crawler(GenericSpider.for_source(source, settings))
    crawler.signals.connect(collect, signal=signals.item_scraped)
    process.crawl(crawler, source=source, known_ads=job.get("known_ads", []))
    real_stdout, sys.stdout = sys.stdout, sys.stderr
    process.start()
    sys.stdout = real_stdout
    print(json.dumps({"items": items, "stats": _stats(crawler)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
