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

from crawler.middlewares import OFFSITE_REDIRECT, ArchiveWriteError
from crawler.socks import SocksError

# Twisted's timeouts are ConnectErrors too: they are asked first
_TIMEOUTS = (DownloadTimeoutError, TimeoutError, net.TimeoutError, net.TCPTimedOutError)
_CONNECTION = (DownloadConnectionRefusedError, CannotResolveHostError, DownloadFailedError,
               ResponseDataLossError, net.ConnectError, net.DNSLookupError, net.ConnectionLost,
               net.ConnectionDone, ResponseNeverReceived, ResponseFailed, SocksError,
               ssl.SSLError, ConnectionError)
TOO_MANY_REDIRECTS = "max redirections reached"  # Scrapy's RedirectMiddleware, whole


def failure_kind(exc: BaseException) -> str:
    """``timeout``, ``archive`` (the answer came and could not be archived),
    ``connection``, ``redirect`` (too many, or off the approved site) or ``other`` for the
    exception a request failed with (HTTP error answers are ``http``, told by their
    response: see GenericSpider.on_error). Refusals are told by Scrapy's and our own
    words, whole: a message that merely names a redirect (an offsite filter's host
    "redirector.example") is not one."""
    if isinstance(exc, _TIMEOUTS):
        return "timeout"
    if isinstance(exc, ArchiveWriteError):
        return "archive"
    if isinstance(exc, _CONNECTION):
        return "connection"
    message = str(exc)
    if isinstance(exc, IgnoreRequest) and (message == TOO_MANY_REDIRECTS
                                           or message.startswith(OFFSITE_REDIRECT)):
        return "redirect"
    return "other"
