"""The crawl's HTTP download handler: aiohttp for direct and HTTP-proxy downloads, Scrapy's
Twisted HTTP/1.1 client for downloads through a SOCKS5 proxy.

Why aiohttp. Scrapy's default handler parses each response with Twisted's HTTP client,
in Python, line by line; aiohttp parses it in C (llhttp) on the asyncio loop the crawl
runs on already. A crawl makes about 2.7 downloads per ad page (the page and its
photos); switching to aiohttp cut about a quarter of a crawl process's CPU (profiled on
benchmarks/crawl_bench.py, where the whole crawl's CPU per ad page fell from 13.2 to
10.1 ms). The handler is Scrapy's own (``AiohttpDownloadHandler``, the default of a
Scrapy run without Twisted); Scrapy still calls it experimental and keeps it in a private
module, so pyproject.toml pins the Scrapy release it was checked with. The crawl's tests
run every download through it: timeouts, truncated bodies, size caps, redirects, odd
encodings, compressed bodies, HTTP proxies, a kill at any moment.
What it gives the rest of the crawl is what Scrapy's HTTP/1.1 handler gives: a
``Response`` with the body as received (no decompression: the archive keeps the bytes
the site sent), its headers, its peer's address, the ``headers_received`` and
``bytes_received`` signals (the page size cap listens to them), and Scrapy's own errors
for a timeout, a refused connection or a body cut short.
Its session needs the running asyncio loop, so the handler is lazy: Scrapy builds it at
the first download, not at start, before the loop runs. Its pool keeps up to
``CONCURRENT_REQUESTS_PER_DOMAIN`` connections per host open between downloads, so
connections are not opened and closed as downloads come and go.

SOCKS5. Scrapy speaks to HTTP proxies only, and aiohttp too. When the source's proxy
(``ADTRACE_PROXY``) is a SOCKS5 one, a request marked with ``SOCKS_KEY`` (by crawler.
middlewares.SourceProxyMiddleware: every request of the crawl) is sent by Scrapy's own
HTTP/1.1 agent over a connection the proxy opened (crawler.socks), pooled apart from
direct connections, so the response, its size cap and its signals are handled as for any
other download. Scrapy keeps at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` idle connections
per host there; a download frees its slot before its connection is back in the pool, so
the next request often found the pool empty and opened a new connection, and the pool
then closed one on return (about one request in seven paid a connect and a close). A few
spare idle connections per host stop that.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from scrapy.core.downloader.handlers._aiohttp import AiohttpDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ScrapyAgent
from scrapy.exceptions import ResponseDataLossError
from scrapy.http import Headers, Request, Response
from scrapy.utils._download_handlers import (
    get_dataloss_msg,
    normalize_bind_address,
    wrap_twisted_exceptions,
)
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.web.client import Agent

from crawler.proxy_url import SocksProxy, is_socks_url
from crawler.socks import SOCKS_KEY, SocksEndpointFactory, SocksError

log = logging.getLogger(__name__)
SPARE_CONNECTIONS = 16  # idle connections kept per host beyond the concurrency (SOCKS pool)
MAX_HEADER_LINE = 16 * 1024  # bytes of a status line or of one header (Twisted: 16 KiB)
MAX_HEADERS = 1000  # headers of one response (Twisted: no limit)


class HttpDownloadHandler(AiohttpDownloadHandler):
    """aiohttp for every download but those marked for the source's SOCKS proxy, which go
    to a ``SocksDownloadHandler`` made at the first of them."""

    lazy: ClassVar[bool] = True  # aiohttp's session is made on the running loop
    experimental: ClassVar[bool] = False  # vetted for the crawl: see the module docstring

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._crawler = crawler
        self._through_socks: SocksDownloadHandler | None = None
        # what Twisted's client read (lines of up to 16 KiB, any number of them), not
        # aiohttp's defaults (8190 bytes, 128 headers), which fail pages sites do send
        session = self._session
        session._max_line_size = session._max_field_size = MAX_HEADER_LINE
        session._max_headers = MAX_HEADERS

    @staticmethod
    def _extract_headers(response: Any) -> Headers:
        """The headers as the site sent them, byte for byte: aiohttp's decoded ones turn a
        byte that is not UTF-8 (a Latin-1 file name, a cookie) into a surrogate that
        Scrapy's headers cannot encode again, which failed the download."""
        return Headers(list(response.raw_headers))

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get(SOCKS_KEY):
            return await super().download_request(request)
        if self._through_socks is None:
            self._through_socks = SocksDownloadHandler(self._crawler)
        return await self._through_socks.download_request(request)

    async def close(self) -> None:
        if self._through_socks is not None:
            await self._through_socks.close()
        await super().close()


class SocksDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler sending every download through the source's SOCKS5
    proxy: its pool holds connections the proxy opened, never direct ones (a request not
    marked for the proxy is refused: it would go around it)."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        per_host = crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self._pool.maxPersistentPerHost = per_host + SPARE_CONNECTIONS
        proxy = crawler.settings.get("ADTRACE_PROXY") or ""
        self._socks = SocksProxy.parse(proxy) if is_socks_url(proxy) else None

    async def download_request(self, request: Request) -> Response:
        if self._socks is None or not request.meta.get(SOCKS_KEY):  # fail closed
            raise SocksError(f"{request.url}: marked for a SOCKS proxy, but the crawl's "
                             "ADTRACE_PROXY names none")
        agent = _SocksScrapyAgent(
            self._socks, contextFactory=self._contextFactory, bindAddress=self._bind_address,
            pool=self._pool, maxsize=self._default_maxsize,
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
