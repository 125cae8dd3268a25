"""The page size cap: stop a download at ``ADTRACE_MAX_PAGE_BYTES`` but keep what came.

Scrapy's own DOWNLOAD_MAXSIZE drops an oversized response entirely, so the archive
would hold nothing of it. This extension counts the bytes of each response as they
arrive and, past the cap, stops the download with ``StopDownload(fail=False)``: the
response reaches the archive with the bytes received so far, the request is marked
truncated, the WARC record says so (``WARC-Truncated: length``) and the spider counts an
error instead of reading a partial page.
"""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured, StopDownload

TRUNCATED_KEY = "adtrace_truncated"
_BYTES_KEY = "adtrace_bytes"
DEFAULT_MAX_PAGE_BYTES = 16 * 1024 * 1024


class PageSizeCap:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageSizeCap:
        max_bytes = crawler.settings.getint("ADTRACE_MAX_PAGE_BYTES", DEFAULT_MAX_PAGE_BYTES)
        if max_bytes <= 0:
            raise NotConfigured("ADTRACE_MAX_PAGE_BYTES is 0: no page size cap")
        ext = cls(max_bytes)
        crawler.signals.connect(ext.bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(ext.request_reached_downloader,
                                signal=signals.request_reached_downloader)
        return ext

    def request_reached_downloader(self, request: Any, spider: Any = None) -> None:
        """Each download counts from its first byte: a retry or a redirect is a copy of
        the request before it, meta and all, and would start at that one's count (and
        truncated flag), and be cut short, or read as cut, at once."""
        forget_bytes(request)

    def bytes_received(self, data: bytes, request: Any, spider: Any = None) -> None:
        total = request.meta.get(_BYTES_KEY, 0) + len(data)
        request.meta[_BYTES_KEY] = total
        if total > self.max_bytes:
            request.meta[TRUNCATED_KEY] = True
            raise StopDownload(fail=False)


def forget_bytes(request: Any) -> None:
    """Count a download asked for again (crawler.http_handler) from its first byte."""
    request.meta.pop(_BYTES_KEY, None)
    request.meta.pop(TRUNCATED_KEY, None)
