"""The kind of a request that failed without an answer (indexer.crawl_runs.ERROR_KINDS).

A run counts its errors by kind, so that status tells a site that is down (timeouts,
refused connections) from one that answers with errors (http) or now redirects the
crawler away (a captcha, a loop). Pages that came and could not be read are counted by
the spider where it reads them; this names what the download itself raised.
"""

from __future__ import annotations

import ssl

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.internet import error as net
from twisted.web.client import ResponseFailed, ResponseNeverReceived

from crawler.socks import SocksError

# Twisted's timeouts are ConnectErrors too: they are asked first
_TIMEOUTS = (DownloadTimeoutError, TimeoutError, net.TimeoutError, net.TCPTimedOutError)
_CONNECTION = (DownloadConnectionRefusedError, CannotResolveHostError, DownloadFailedError,
               ResponseDataLossError, net.ConnectError, net.DNSLookupError, net.ConnectionLost,
               net.ConnectionDone, ResponseNeverReceived, ResponseFailed, SocksError,
               ssl.SSLError, ConnectionError)


def failure_kind(exc: BaseException) -> str:
    """``timeout``, ``connection``, ``redirect`` (too many, or off the approved site) or
    ``other`` for the exception a request failed with (HTTP error answers are ``http``,
    told by their response: see GenericSpider.on_error)."""
    if isinstance(exc, _TIMEOUTS):
        return "timeout"
    if isinstance(exc, _CONNECTION):
        return "connection"
    if isinstance(exc, IgnoreRequest) and "redirect" in str(exc).lower():
        return "redirect"
    return "other"
