"""Scrapy settings for one source's crawl: politeness, robots, archive, pipeline.

Components are listed as priority dicts. The archive middleware sits at 950, next to
the downloader, so it sees every response (robots.txt and redirects included) first.
"""

from __future__ import annotations

from typing import Any

from crawler.source import Source

BASE: dict[str, Any] = {
    "BOT_NAME": "adtrace",
    "SPIDER_MODULES": ["crawler.spiders"],
    "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.ArchiveMiddleware": 950},
    "ITEM_PIPELINES": {"crawler.pipelines.IngestPipeline": 300},
    "EXTENSIONS": {"crawler.extensions.CrawlMonitor": 500,
                   "scrapy.extensions.telnet.TelnetConsole": None},
    "DOWNLOAD_TIMEOUT": 30,
    "DOWNLOAD_MAXSIZE": 32 * 1024 * 1024,
    "RETRY_TIMES": 1,
    "COOKIES_ENABLED": False,
    "LOG_LEVEL": "WARNING",
}


def scrapy_settings(source: Source, *, store_url: str, archive_dir: str, clock_start: str = "",
                    progress: bool = True, overrides: dict[str, Any] | None = None
                    ) -> dict[str, Any]:
    """The settings for crawling ``source``; ``overrides`` win (tests shorten timeouts)."""
    p = source.politeness
    settings = dict(BASE)
    settings.update({
        "ROBOTSTXT_OBEY": source.robots != "ignore",
        "USER_AGENT": source.user_agent,
        "DOWNLOAD_DELAY": p.download_delay,
        "CONCURRENT_REQUESTS": p.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": p.concurrency,
        "AUTOTHROTTLE_ENABLED": p.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(p.download_delay, 0.05),
        "AUTOTHROTTLE_MAX_DELAY": max(10.0, p.download_delay * 10),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(p.concurrency),
        "ADTRACE_STORE_URL": store_url,
        "ADTRACE_ARCHIVE_DIR": archive_dir,
        "ADTRACE_CLOCK_START": clock_start,
        "ADTRACE_PROGRESS": progress,
    })
    settings.update(overrides or {})
    return settings
