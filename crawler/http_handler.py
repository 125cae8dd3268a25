"""Scrapy's HTTP/1.1 download handler with a connection pool that does not churn.

Scrapy keeps at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` idle connections per host. A
download frees its slot before its connection is back in the pool, so the next request
often finds the pool empty, opens a new connection, and the pool then closes one on
return: about one request in seven paid a TCP connect and close (on the crawl's one
core, and on the site). A few spare idle connections per host stop that; requests in
flight stay bounded by the concurrency settings as before.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

SPARE_CONNECTIONS = 16  # idle connections kept per host beyond the concurrency


class PooledHTTP11DownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        per_host = crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self._pool.maxPersistentPerHost = per_host + SPARE_CONNECTIONS
