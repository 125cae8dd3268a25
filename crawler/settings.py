"""Scrapy settings for one source's crawl: politeness, robots, archive, pipeline.

Components are listed as priority dicts. The archive middleware sits at 950, next to
the downloader, so it sees every response (robots.txt and redirects included) first.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings.default_settings import RETRY_EXCEPTIONS

from crawler.size_cap import DEFAULT_MAX_PAGE_BYTES
from crawler.source import Source

BASE: dict[str, Any] = {
    "BOT_NAME": "adtrace",
    "SPIDER_MODULES": ["crawler.spiders"],
    # the proxy is set before HttpProxyMiddleware (750) reads it, on every request; a
    # redirect off the approved site is refused before robots.txt (100) asks its host.
    # Responses go from high numbers to low: the charset check (585) sees a page after
    # it is archived (950), redirected (600) and decompressed (590), and re-reads it
    # before the meta-refresh check (580) and the spider decode its text
    "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.OffsiteRedirectMiddleware": 50,
                               "crawler.middlewares.SourceProxyMiddleware": 100,
                               "crawler.charset.CharsetMiddleware": 585,
                               "crawler.middlewares.ArchiveMiddleware": 950},
    "ITEM_PIPELINES": {"crawler.pipelines.IngestPipeline": 300},
    "DOWNLOAD_HANDLERS": {"http": "crawler.http_handler.HttpDownloadHandler",
                          "https": "crawler.http_handler.HttpDownloadHandler"},
    # No console into a running crawl: Scrapy's telnet console and its remote control
    # (an HTTP server on localhost that runs any Python code sent to it, its token in a
    # file in the user's home) would let any local process act inside the crawler.
    "EXTENSIONS": {"crawler.extensions.CrawlMonitor": 500,
                   "crawler.size_cap.PageSizeCap": 510,
                   "scrapy.extensions.telnet.TelnetConsole": None},
    "REMOTE_CONTROL_ENABLED": False,
    # Scrapy's own downloader/* byte and status counters: nothing reads them (a run is
    # reported by the adtrace/* counters), and they rebuilt every request as HTTP text
    "DOWNLOADER_STATS": False,
    "DOWNLOAD_TIMEOUT": 30,
    # Scrapy's cap would drop an oversized page whole; ours keeps what came (size_cap)
    "DOWNLOAD_MAXSIZE": 0,
    "DOWNLOAD_WARNSIZE": 0,
    "ADTRACE_MAX_PAGE_BYTES": DEFAULT_MAX_PAGE_BYTES,
    # ads per message to the ingest worker: one store transaction and one nlp.pipe run
    # (the Enricher's batch) each; 64 cost 0.1 CPU ms per ad less than 32, 128 no less
    "ADTRACE_INGEST_BATCH": 64,
    # enrich and store in a second process (crawler.ingest_worker); False: in this one
    "ADTRACE_INGEST_WORKER": True,
    "RETRY_TIMES": 1,
    # a SOCKS stream that failed is tried again, as Scrapy tries a failed HTTP tunnel
    "RETRY_EXCEPTIONS": [*RETRY_EXCEPTIONS, "crawler.socks.SocksStreamError"],
    "COOKIES_ENABLED": False,
    # items in flight per response: Scrapy starts this many asyncio workers for every
    # callback's output, and a callback here yields a handful (the default 100 cost more
    # CPU than archiving and enriching together)
    "CONCURRENT_ITEMS": 16,
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
        "ADTRACE_PROXY": source.proxy,
        "ADTRACE_STORE_URL": store_url,
        "ADTRACE_ARCHIVE_DIR": archive_dir,
        "ADTRACE_CLOCK_START": clock_start,
        "ADTRACE_PROGRESS": progress,
    })
    settings.update(overrides or {})
    return settings


# Downloader middlewares with nothing to do unless a spider attribute or a setting gives
# them something: each still costs every request (and every image) a call on the way out
# and back, so a crawl without any of these goes without them. Only class attributes
# count (a custom spider that sets them in __init__ must set them on the class).
IDLE_UNLESS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": (("allowed_domains",), ()),
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": (
        ("http_user", "http_pass"), ("HTTPAUTH_USER", "HTTPAUTH_PASS")),
}


def without_idle_middlewares(settings: dict[str, Any], spider_cls: type) -> dict[str, Any]:
    """``settings`` with the middlewares of IDLE_UNLESS that neither ``spider_cls`` nor the
    settings give anything to do switched off (those the settings name are left alone)."""
    chosen = dict(settings.get("DOWNLOADER_MIDDLEWARES") or {})
    for path, (attributes, names) in IDLE_UNLESS.items():
        used = (any(getattr(spider_cls, a, None) for a in attributes)
                or any(settings.get(n) for n in names))
        if path not in chosen and not used:
            chosen[path] = None
    return {**settings, "DOWNLOADER_MIDDLEWARES": chosen}
