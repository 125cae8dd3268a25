"""The crawl's HTTP download handler: aiohttp for direct and HTTP-proxy downloads, Scrapy's
Twisted HTTP/1.1 client for downloads through a SOCKS5 proxy and for answers aiohttp
cannot read.

Why aiohttp. Scrapy's default handler parses each response with Twisted's HTTP client,
in Python, line by line; aiohttp parses it in C (llhttp) on the asyncio loop the crawl
runs on already. A crawl makes about 2.7 downloads per ad page (the page and its
photos); switching to aiohttp cut about a quarter of a crawl process's CPU (profiled on
benchmarks/crawl_bench.py, where the whole crawl's CPU per ad page fell from 13.2 to
about 10 ms). The handler is Scrapy's own (``AiohttpDownloadHandler``, the default of a
Scrapy run without Twisted); Scrapy still calls it experimental and keeps it in a private
module, so pyproject.toml pins the Scrapy release it was checked with.

What the rest of the crawl gets is what Scrapy's HTTP/1.1 handler gave it, and the
archive keeps evidence of what was asked and answered, so this subclass sets a few
things Scrapy's aiohttp handler does otherwise:
- the URL is sent as Scrapy wrote it (yarl would drop ``./`` and ``../`` segments and
  change percent-escapes, so the site would be asked for a URL other than the one the
  WARC records name); a GET carries no body and no ``Content-Length: 0``;
- the headers are the site's bytes, not aiohttp's decoded text (a Latin-1 byte in a
  header failed the download); the connection's own headers (Connection, Keep-Alive…)
  are left out, as Twisted leaves them out, and so is ``chunked`` from
  Transfer-Encoding: the body is kept de-chunked, and a record saying ``chunked`` over
  it would be de-chunked again by WARC readers;
- header lines of up to 16 KiB and up to 1000 headers are read (aiohttp: 8190 bytes,
  128 headers);
- a proxy's login goes in a Proxy-Authorization header, never in the proxy URL, which
  aiohttp's errors quote (they end up in logs and in the crawl's run record);
- no cap on connections in all: downloads are capped per site by Scrapy's download slots
  and per host here (``CONCURRENT_REQUESTS_PER_DOMAIN``, so idle connections are reused,
  not opened and closed as downloads come and go); a total cap made photos of another
  host wait inside aiohttp, where the wait counted against their timeout;
- TLS renegotiation with servers too old for the secure kind is allowed, as Twisted's
  context allows it.
Its session needs the running asyncio loop, so the handler is lazy: Scrapy builds it at
the first download, not at start, before the loop runs.

Answers aiohttp cannot read. llhttp refuses some answers that Twisted reads (and the
crawl archived): a Content-Length sent twice, a body longer than its Content-Length, a
header line with no colon or a control byte, a 204 with a body, a lowercase status
line. Such an answer is asked for again through Twisted (the crawl only sends GETs),
counted in the stat ``adtrace/http/read_by_twisted``.

SOCKS5. Scrapy speaks to HTTP proxies only, and aiohttp too. When the source's proxy
(``ADTRACE_PROXY``) is a SOCKS5 one, a request marked with ``SOCKS_KEY`` (by crawler.
middlewares.SourceProxyMiddleware: every request of the crawl) is sent by Scrapy's own
HTTP/1.1 agent over a connection the proxy opened (crawler.socks), pooled apart from
direct connections, so the response, its size cap and its signals are handled as for any
other download. Scrapy keeps at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` idle connections
per host in a Twisted pool; a download frees its slot before its connection is back in
the pool, so the next request often found the pool empty and opened a new connection,
and the pool then closed one on return (about one request in seven paid a connect and a
close). A few spare idle connections per host stop that.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import aiohttp
import yarl
from scrapy.core.downloader.handlers._aiohttp import AiohttpDownloadHandler, _ClientResponse
from scrapy.core.downloader.handlers._base_streaming import BaseStreamingDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ScrapyAgent
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.http import Headers, Request, Response
from scrapy.utils._download_handlers import (
    get_dataloss_msg,
    normalize_bind_address,
    wrap_twisted_exceptions,
)
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.ssl import _make_ssl_context
from twisted.internet.defer import Deferred
from twisted.web.client import Agent, HTTPConnectionPool

from crawler.proxy_url import SocksProxy, is_socks_url
from crawler.size_cap import forget_bytes
from crawler.socks import SOCKS_KEY, SocksEndpointFactory, SocksError

log = logging.getLogger(__name__)
SPARE_CONNECTIONS = 16  # idle connections kept per host beyond the concurrency (Twisted)
MAX_HEADER_LINE = 16 * 1024  # bytes of a status line or of one header (Twisted: 16 KiB)
MAX_HEADERS = 1000  # headers of one response (Twisted: no limit)
# what describes the connection, not the answer: Twisted keeps these out of a response's
# headers (Content-Length, which it also keeps apart, is the answer's and stays;
# Transfer-Encoding loses only ``chunked``: _without_chunked)
CONNECTION_HEADERS = frozenset({b"connection", b"keep-alive", b"te", b"trailers",
                                b"upgrade", b"proxy-connection"})
LEGACY_SERVER_CONNECT = getattr(ssl, "OP_LEGACY_SERVER_CONNECT", 0x4)  # Python 3.12 names it
READ_BY_TWISTED = "adtrace/http/read_by_twisted"  # the stat of answers aiohttp refused


class UnreadableAnswer(Exception):
    """aiohttp's parser refused the site's answer (not a proxy's, not a network fault)."""


class HttpDownloadHandler(AiohttpDownloadHandler):
    """aiohttp for every download but those marked for the source's SOCKS proxy and those
    whose answer aiohttp cannot read, which go to a ``TwistedDownloadHandler`` made at the
    first of them."""

    lazy: ClassVar[bool] = True  # aiohttp's session is made on the running loop
    experimental: ClassVar[bool] = False  # vetted for the crawl: see the module docstring

    def __init__(self, crawler: Any) -> None:
        # Scrapy's AiohttpDownloadHandler.__init__ only makes the session, which is made
        # here with the crawl's own limits instead
        BaseStreamingDownloadHandler.__init__(self, crawler)
        self._twisted: TwistedDownloadHandler | None = None
        self._ssl_context = _ssl_context(crawler)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=self._bind_address, limit=0,
                                           limit_per_host=self._pool_size_per_host),
            cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False,
            response_class=_ClientResponse,
            skip_auto_headers=("Accept", "Accept-Encoding", "Content-Type", "User-Agent"),
            max_line_size=MAX_HEADER_LINE, max_field_size=MAX_HEADER_LINE,
            max_headers=MAX_HEADERS)

    async def download_request(self, request: Request) -> Response:
        if request.meta.get(SOCKS_KEY):
            return await self._by_twisted().download_request(request)
        try:
            return await super().download_request(request)
        except UnreadableAnswer as exc:
            log.debug("%s: aiohttp could not read the answer (%s); asking again with Twisted",
                      request.url, exc)
            self.crawler.stats.inc_value(READ_BY_TWISTED)
            forget_bytes(request)  # the size cap counts the second answer from zero
        return await self._by_twisted().download_request(request)

    def _by_twisted(self) -> TwistedDownloadHandler:
        if self._twisted is None:
            self._twisted = TwistedDownloadHandler(self.crawler)
        return self._twisted

    @asynccontextmanager
    async def _make_request(self, request: Request,
                            timeout: float) -> AsyncIterator[_ClientResponse]:
        url = yarl.URL(request.url, encoded=True)
        proxy, login = self._extract_proxy(request)
        headers, proxy_headers = self._request_headers(request), None
        if login and url.scheme == "https":  # for the CONNECT that opens the tunnel
            proxy_headers = {"Proxy-Authorization": login}
        elif login:  # a request through a plain HTTP proxy carries it itself
            headers[b"Proxy-Authorization"] = login
        try:
            async with await self._session.request(
                request.method, url, data=request.body or None,
                headers=headers.to_tuple_list(), timeout=aiohttp.ClientTimeout(total=timeout),
                ssl=self._ssl_context, allow_redirects=False, proxy=proxy,
                proxy_headers=proxy_headers,
            ) as response:
                yield response
        except TimeoutError as e:
            raise DownloadTimeoutError(
                f"Getting {request.url} took longer than {timeout} seconds.") from e
        except aiohttp.ClientHttpProxyError as e:  # the proxy's answer, not the site's
            raise DownloadFailedError(str(e)) from e
        except aiohttp.ClientResponseError as e:
            raise UnreadableAnswer(e.message) from e
        except (aiohttp.InvalidUrlClientError, aiohttp.NonHttpUrlClientError) as e:
            raise UnsupportedURLSchemeError(str(e)) from e
        except aiohttp.ClientConnectorDNSError as e:
            if proxy and e.host == yarl.URL(proxy).host:  # the proxy's own name
                raise CannotResolveHostError(
                    f"HTTP proxy could not be reached: {_connector_message(e)}") from e
            raise CannotResolveHostError(_connector_message(e)) from e
        except aiohttp.ClientProxyConnectionError as e:  # the proxy, not the site
            raise DownloadConnectionRefusedError(
                f"HTTP proxy could not be reached: {_connector_message(e)}") from e
        except aiohttp.ClientConnectorError as e:
            raise DownloadConnectionRefusedError(_connector_message(e)) from e
        except aiohttp.ClientError as e:
            raise DownloadFailedError(str(e)) from e

    @staticmethod
    def _extract_headers(response: _ClientResponse) -> Headers:
        """The answer's headers as the site sent them, byte for byte, without those of the
        connection, and without ``chunked`` in Transfer-Encoding (the body is kept
        de-chunked; another coding, which aiohttp leaves undone, stays named)."""
        kept = []
        for name, value in response.raw_headers:
            if name.lower() == b"transfer-encoding":
                value = _without_chunked(value)
                if value:
                    kept.append((name, value))
            elif name.lower() not in CONNECTION_HEADERS:
                kept.append((name, value))
        return Headers(kept)

    async def close(self) -> None:
        if self._twisted is not None:
            await self._twisted.close()
        await super().close()


def _without_chunked(codings: bytes) -> bytes:
    """A Transfer-Encoding value without ``chunked`` (``gzip, chunked`` → ``gzip``)."""
    return b", ".join(c.strip() for c in codings.split(b",")
                      if c.strip() and c.strip().lower() != b"chunked")


def _connector_message(error: aiohttp.ClientConnectorError) -> str:
    """aiohttp's words for a connection that failed, less the TLS context it names
    (``ssl:<ssl.SSLContext object at 0x…>``, even for a plain http:// address), which
    tells an operator nothing and changes from run to run."""
    return _SSL_NOTE.sub("", str(error))


_SSL_NOTE = re.compile(r" ssl:(?:<[^>]*>|default|True|False|None)")


def _ssl_context(crawler: Any) -> ssl.SSLContext:
    """Scrapy's TLS context for the crawl's settings, allowing renegotiation with old
    servers as Twisted's context does."""
    context = _make_ssl_context(crawler.settings)
    context.options |= LEGACY_SERVER_CONNECT
    return context


class TwistedDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler with a connection pool that does not churn, sending a
    request marked with ``SOCKS_KEY`` through the source's SOCKS5 proxy."""

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
