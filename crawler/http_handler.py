"""Scrapy's HTTP/1.1 download handler, with a connection pool that does not churn and
with SOCKS5 proxies (crawler.socks).

Scrapy keeps at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` idle connections per host. A
download frees its slot before its connection is back in the pool, so the next request
often finds the pool empty, opens a new connection, and the pool then closes one on
return: about one request in seven paid a TCP connect and close (on the crawl's one
core, and on the site). A few spare idle connections per host stop that; requests in
flight stay bounded by the concurrency settings as before.

Scrapy speaks to HTTP proxies only. A request whose meta carries ``SOCKS_KEY`` (set by
crawler.middlewares.SourceProxyMiddleware for a source with a SOCKS proxy) is sent by
Scrapy's own HTTP/1.1 agent over a connection the proxy opened (a pool per proxy), so
the response, its size cap and its signals are handled as for any other download.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ScrapyAgent
from scrapy.http import Request, Response
from scrapy.utils._download_handlers import normalize_bind_address, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred, DeferredList
from twisted.web.client import Agent, HTTPConnectionPool

from crawler.proxy_url import SocksProxy
from crawler.socks import SOCKS_KEY, SocksEndpointFactory

SPARE_CONNECTIONS = 16  # idle connections kept per host beyond the concurrency


class PooledHTTP11DownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        per_host = crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self._pool.maxPersistentPerHost = per_host + SPARE_CONNECTIONS
        self._socks_pools: dict[tuple[Any, ...], HTTPConnectionPool] = {}

    async def download_request(self, request: Request) -> Response:
        proxy_url = request.meta.get(SOCKS_KEY)
        if not proxy_url:
            return await super().download_request(request)
        proxy = _socks_proxy(proxy_url)
        agent = _SocksScrapyAgent(
            proxy, self._socks_pool(proxy), contextFactory=self._contextFactory,
            bindAddress=self._bind_address, pool=self._pool, maxsize=self._default_maxsize,
            warnsize=self._default_warnsize, fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler, tls_verbose_logging=self._tls_verbose_logging)
        with wrap_twisted_exceptions():
            return await maybe_deferred_to_future(agent.download_request(request))

    def _socks_pool(self, proxy: SocksProxy) -> HTTPConnectionPool:
        """The persistent connections through ``proxy`` (its credentials included)."""
        key = proxy.pool_key()
        pool = self._socks_pools.get(key)
        if pool is None:
            from twisted.internet import reactor

            pool = HTTPConnectionPool(reactor, persistent=True)
            pool.maxPersistentPerHost = self._pool.maxPersistentPerHost
            pool._factory = self._pool._factory  # Scrapy's lenient HTTP/1.1 client
            self._socks_pools[key] = pool
        return pool

    async def close(self) -> None:
        pools = list(self._socks_pools.values())
        self._socks_pools.clear()
        if pools:
            await maybe_deferred_to_future(_closed_within(
                [p.closeCachedConnections() for p in pools], self._disconnect_timeout))
        await super().close()


def _closed_within(closing: list[Deferred[Any]], seconds: float) -> Deferred[Any]:
    """Fires when every pool closed, or after ``seconds``: closing cached connections
    can hang on a stuck peer (Scrapy's own close waits the same way, Twisted #7738)."""
    from twisted.internet import reactor

    done: Deferred[Any] = Deferred()
    timer = reactor.callLater(seconds, lambda: done.called or done.callback(None))
    DeferredList(closing, consumeErrors=True).addBoth(
        lambda _: (timer.active() and timer.cancel(), done.called or done.callback(None)))
    return done


@lru_cache(maxsize=16)
def _socks_proxy(url: str) -> SocksProxy:
    """The proxy a SOCKS URL names (a crawl has one, validated with its source file)."""
    return SocksProxy.parse(url)


class _SocksScrapyAgent(_ScrapyAgent):
    """Scrapy's agent with the connection made through a SOCKS5 proxy."""

    def __init__(self, proxy: SocksProxy, socks_pool: HTTPConnectionPool,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._socks = proxy
        self._socks_pool = socks_pool

    def _get_agent(self, request: Request, timeout: float) -> Agent:
        from twisted.internet import reactor

        factory = SocksEndpointFactory(reactor, self._socks, self._contextFactory,
                                       timeout=timeout,
                                       bind_address=normalize_bind_address(
                                           request.meta.get("bindaddress") or self._bindAddress))
        return Agent.usingEndpointFactory(reactor, factory, pool=self._socks_pool)
