"""Scrapy's HTTP/1.1 download handler, with a connection pool that does not churn and
with SOCKS5 proxies (crawler.socks).

Scrapy keeps at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` idle connections per host. A
download frees its slot before its connection is back in the pool, so the next request
often finds the pool empty, opens a new connection, and the pool then closes one on
return: about one request in seven paid a TCP connect and close (on the crawl's one
core, and on the site). A few spare idle connections per host stop that; requests in
flight stay bounded by the concurrency settings as before.

Scrapy speaks to HTTP proxies only. When the source's proxy (``ADTRACE_PROXY``) is a
SOCKS5 one, a request marked with ``SOCKS_KEY`` (by crawler.middlewares.
SourceProxyMiddleware: every request of the crawl) is sent by Scrapy's own HTTP/1.1
agent over a connection the proxy opened, pooled apart from direct connections, so the
response, its size cap and its signals are handled as for any other download.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ScrapyAgent
from scrapy.exceptions import ResponseDataLossError
from scrapy.http import Request, Response
from scrapy.utils._download_handlers import (
    get_dataloss_msg,
    normalize_bind_address,
    wrap_twisted_exceptions,
)
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.web.client import Agent, HTTPConnectionPool

from crawler.proxy_url import SocksProxy, is_socks_url
from crawler.socks import SOCKS_KEY, SocksEndpointFactory, SocksError

log = logging.getLogger(__name__)
SPARE_CONNECTIONS = 16  # idle connections kept per host beyond the concurrency


class PooledHTTP11DownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        per_host = crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self._pool.maxPersistentPerHost = per_host + SPARE_CONNECTIONS
        proxy = crawler.settings.get("ADTRACE_PROXY") or ""
        self._socks = SocksProxy.parse(proxy) if is_socks_url(proxy) else None
        self._socks_pool: HTTPConnectionPool | None = None

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get(SOCKS_KEY):
            return await super().download_request(request)
        if self._socks is None:  # fail closed: never send such a request around the proxy
            raise SocksError(f"{request.url}: marked for a SOCKS proxy, but the crawl's "
                             "ADTRACE_PROXY names none")
        agent = _SocksScrapyAgent(
            self._socks, contextFactory=self._contextFactory, bindAddress=self._bind_address,
            pool=self._pool_through_proxy(), maxsize=self._default_maxsize,
            warnsize=self._default_warnsize, fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler, tls_verbose_logging=self._tls_verbose_logging)
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:  # as Scrapy's own download_request says it
            if not self._fail_on_dataloss_warned:
                log.warning(get_dataloss_msg(request.url))
                self._fail_on_dataloss_warned = True
            raise

    def _pool_through_proxy(self) -> HTTPConnectionPool:
        """The persistent connections through the SOCKS proxy, apart from direct ones."""
        if self._socks_pool is None:
            from twisted.internet import reactor

            self._socks_pool = HTTPConnectionPool(reactor, persistent=True)
            self._socks_pool.maxPersistentPerHost = self._pool.maxPersistentPerHost
            self._socks_pool._factory = self._pool._factory  # Scrapy's lenient HTTP/1.1
        return self._socks_pool

    async def close(self) -> None:
        if self._socks_pool is not None:
            pool, self._socks_pool = self._socks_pool, None
            await maybe_deferred_to_future(_closed_within(pool.closeCachedConnections(),
                                                          self._disconnect_timeout))
        await super().close()


def _closed_within(closing: Deferred[Any], seconds: float) -> Deferred[Any]:
    """Fires when the pool closed, or after ``seconds``: closing cached connections can
    hang on a stuck peer (Scrapy's own close waits the same way, Twisted #7738)."""
    from twisted.internet import reactor

    done: Deferred[Any] = Deferred()
    timer = reactor.callLater(seconds, lambda: done.called or done.callback(None))

    def closed(_: Any) -> None:
        if timer.active():
            timer.cancel()
        if not done.called:
            done.callback(None)

    closing.addBoth(closed)
    return done


class _SocksScrapyAgent(_ScrapyAgent):
    """Scrapy's agent with its connections made through a SOCKS5 proxy (its ``pool`` is
    the pool of connections through that proxy)."""

    def __init__(self, proxy: SocksProxy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._socks = proxy

    def _get_agent(self, request: Request, timeout: float) -> Agent:
        from twisted.internet import reactor

        bind = normalize_bind_address(request.meta.get("bindaddress") or self._bindAddress)
        factory = SocksEndpointFactory(reactor, self._socks, self._contextFactory,
                                       timeout=timeout, bind_address=bind)
        return Agent.usingEndpointFactory(reactor, factory, pool=self._pool)
