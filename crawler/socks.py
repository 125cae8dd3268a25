"""SOCKS5 proxies for a crawl's downloads (RFC 1928, with RFC 1929 username/password).

A source may name ``socks5h://host:port`` (the proxy resolves the site's name: what Tor
needs, and what keeps the crawler's own resolver from ever seeing the site's name, so an
onion address works) or ``socks5://host:port`` (the crawler resolves the name and hands
the proxy an address); both take ``user:password@`` for a proxy that asks for a login
(Tor also takes one to keep sources on separate circuits).

Scrapy's HTTP/1.1 handler speaks to HTTP proxies only, so the crawl's handler
(crawler.http_handler) sends a request that carries ``SOCKS_KEY`` through an agent of
this module: its endpoint connects to the proxy, asks it for a stream to the site, and
hands the connection to Scrapy's own HTTP client (after a TLS handshake with the site
for https) exactly as a direct connection would be handed over. Everything above the
connection, the response, its size cap, the archive, stays Scrapy's and adtrace's.

A proxy that cannot be reached, refuses the credentials or cannot reach the site fails
the download with a ``SocksError`` whose message names the proxy (never its password)
and the reason, counted as the crawl's error for that URL like any other; a failure of
the stream (not of the login) is tried again as a failed connection is.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Any

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import ConnectingCancelledError
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure
from twisted.web.client import URI
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

from crawler.proxy_url import SocksProxy

SOCKS_KEY = "adtrace_socks"  # request meta: True sends the request through the SOCKS proxy

_NO_AUTH, _USER_PASS, _NONE_ACCEPTABLE = 0x00, 0x02, 0xFF
_IPV4, _DOMAIN, _IPV6 = 0x01, 0x03, 0x04
# RFC 1928 section 6, then Tor's extended codes for onion services (tor's socks-extensions)
REPLIES = {
    0x01: "general SOCKS server failure", 0x02: "connection not allowed by ruleset",
    0x03: "network unreachable", 0x04: "host unreachable", 0x05: "connection refused",
    0x06: "TTL expired", 0x07: "command not supported", 0x08: "address type not supported",
    0xF0: "onion service descriptor can not be found",
    0xF1: "onion service descriptor is invalid", 0xF2: "onion service introduction failed",
    0xF3: "onion service rendezvous failed", 0xF4: "onion service needs client authorization",
    0xF5: "onion service client authorization is wrong", 0xF6: "invalid onion address",
    0xF7: "onion service introduction timed out",
}


class SocksError(Exception):
    """The proxy could not give a stream to the site; the message says which and why.
    As such it is not tried again: the proxy's answer (a refused login, say) would be
    the same."""


class SocksStreamError(SocksError):
    """The proxy could not be reached, hung up, or could not reach the site: tried again
    as Scrapy tries a failed connection or HTTP tunnel again (``RETRY_EXCEPTIONS``)."""


# --------------------------------------------------------------------------- wire format
def greeting(proxy: SocksProxy) -> bytes:
    """The methods offered: username/password when the proxy URL has them, else none."""
    return bytes([5, 1, _USER_PASS if proxy.username else _NO_AUTH])


def credentials(proxy: SocksProxy) -> bytes:
    user, password = proxy.username.encode(), proxy.password.encode()
    return bytes([1, len(user)]) + user + bytes([len(password)]) + password


def connect_request(host: str, port: int) -> bytes:
    """CONNECT to ``host`` (an address, or a name the proxy resolves) and ``port``."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        try:
            name = host.encode("idna")
        except UnicodeError:
            name = b""
        if not 0 < len(name) < 256:
            raise SocksError(f"host name {host[:80]!r} cannot be sent to a SOCKS proxy "
                             "(not a valid name, or longer than 255 bytes)") from None
        target = bytes([_DOMAIN, len(name)]) + name
    else:
        target = bytes([_IPV4 if address.version == 4 else _IPV6]) + address.packed
    return bytes([5, 1, 0]) + target + struct.pack("!H", port)


def reply_length(head: bytes) -> int | None:
    """The length of a CONNECT reply that starts with ``head``; None until enough of it
    arrived to tell (the bound address has a length of its own)."""
    if len(head) < 5:
        return None
    kind = head[3]
    if kind == _IPV4:
        return 4 + 4 + 2
    if kind == _IPV6:
        return 4 + 16 + 2
    if kind == _DOMAIN:
        return 4 + 1 + head[4] + 2
    raise SocksError(f"answered a CONNECT with an unknown address type {kind}")


# --------------------------------------------------------------------------- the endpoint
class SocksClientEndpoint(TCP4ClientEndpoint):
    """Connects to the proxy, negotiates a stream to ``host:port`` and gives the
    connected protocol to its caller (Twisted's connection pool) as if it had dialled the
    site: the protocol's own ``dataReceived`` and ``connectionLost`` are lent to the
    negotiation and given back before anything reaches it (as Scrapy's tunnelling
    endpoint does for HTTP CONNECT)."""

    def __init__(self, reactor: Any, proxy: SocksProxy, host: str, port: int, *,
                 tls: Any = None, timeout: float = 30,
                 bindAddress: tuple[str, int] | None = None) -> None:  # noqa: N803
        super().__init__(reactor, proxy.host, proxy.port, timeout, bindAddress)
        self._proxy = proxy
        self._target = (host, port)
        self._tls = tls  # a creator for the site's TLS (https), or None
        self._buffer = bytearray()
        self._step = ""
        self._protocol: Protocol | None = None
        self._connecting: Deferred[Protocol] | None = None
        self._ready: Deferred[Protocol] = Deferred(self._cancel)

    def connect(self, protocolFactory: Factory) -> Deferred[Protocol]:  # noqa: N803 - Twisted API
        self._connecting = super().connect(protocolFactory)
        self._connecting.addCallbacks(self._connected, self._unreachable)
        return self._ready

    def _cancel(self, _: Deferred[Protocol]) -> None:
        """A download timeout: stop dialling the proxy, or drop the connection to it."""
        if self._protocol is None:
            if self._connecting is not None:
                self._connecting.cancel()
        elif self._protocol.transport is not None:
            self._protocol.transport.abortConnection()

    def _unreachable(self, failure: Failure) -> None:
        if not self._ready.called and not failure.check(CancelledError,
                                                             ConnectingCancelledError):
            self._ready.errback(SocksStreamError(
                f"SOCKS proxy {self._proxy.label} could not be reached: "
                f"{failure.getErrorMessage()}"))

    def _connected(self, protocol: Protocol) -> None:
        self._protocol = protocol
        self._lent = (protocol.dataReceived, protocol.connectionLost)
        protocol.dataReceived = self._received  # type: ignore[method-assign]
        protocol.connectionLost = self._lost  # type: ignore[method-assign]
        if self._ready.called:  # cancelled while the proxy was being dialled
            self._abort()
            return
        host = self._target[0]
        if not self._proxy.remote_dns and not _is_address(host):
            # socks5://: the crawler resolves the name and the proxy gets an address
            self._reactor.resolve(host).addCallbacks(self._resolved, self._unresolved)
            return
        self._send_greeting()

    def _resolved(self, address: str) -> None:
        if not self._ready.called:
            self._target = (address, self._target[1])
            self._send_greeting()

    def _unresolved(self, failure: Failure) -> None:
        self._fail(SocksStreamError(
            f"{self._target[0]} did not resolve (socks5:// resolves names here; "
            f"socks5h:// lets the proxy do it): {failure.getErrorMessage()}"))

    def _send_greeting(self) -> None:
        self._step = "method"
        self._write(greeting(self._proxy))

    def _write(self, data: bytes) -> None:
        assert self._protocol is not None and self._protocol.transport is not None
        self._protocol.transport.write(data)

    def _received(self, data: bytes) -> None:
        self._buffer += data
        try:
            while self._step and self._advance():
                pass
        except SocksError as exc:
            self._fail(exc)

    def _advance(self) -> bool:
        """Take the next answer from the buffer if enough of it came; True if taken."""
        if len(self._buffer) < 2:
            return False
        if self._step == "method":
            self._take_method()
            return True
        if self._step == "auth":
            version, status = self._buffer[:2]
            del self._buffer[:2]
            if version != 1:
                raise SocksError(f"answered the login as version {version}, not 1")
            if status != 0:
                raise SocksError("refused the user name and password")
            self._send_connect()
            return True
        return self._take_reply()

    def _take_method(self) -> None:
        version, method = self._buffer[:2]
        del self._buffer[:2]
        if version != 5:
            raise SocksError(f"answered as SOCKS version {version}, not 5 (is it a SOCKS5 "
                             "proxy?)")
        if method == _USER_PASS and self._proxy.username:
            self._step = "auth"
            self._write(credentials(self._proxy))
        elif method == _NO_AUTH:  # asks for nothing (harmless even when a login was offered)
            self._send_connect()
        elif method in (_USER_PASS, _NONE_ACCEPTABLE) and not self._proxy.username:
            raise SocksError("wants a user name and password (give them in the proxy URL)")
        elif method == _NONE_ACCEPTABLE:
            raise SocksError("does not take a user name and password")
        else:
            raise SocksError(f"chose an authentication method ({method:#04x}) that was "
                             "not offered")

    def _take_reply(self) -> bool:
        """The CONNECT reply: a failure is told as soon as its code came, a success once
        the whole reply (its bound address has a length of its own) is in."""
        version, code = self._buffer[:2]
        if version != 5:
            raise SocksError(f"answered the CONNECT as SOCKS version {version}, not 5")
        if code != 0:
            reason = REPLIES.get(code, f"reply code {code:#04x}")
            raise SocksStreamError(f"could not reach {self._target[0]}:{self._target[1]}: "
                                   f"{reason}")
        need = reply_length(bytes(self._buffer[:5]))
        if need is None or len(self._buffer) < need:
            return False
        rest = bytes(self._buffer[need:])
        self._buffer.clear()
        self._step = ""
        self._hand_over(rest)
        return False

    def _send_connect(self) -> None:
        self._step = "reply"
        self._write(connect_request(*self._target))

    def _hand_over(self, rest: bytes) -> None:
        """The stream is open: give the protocol back its own methods, start TLS with the
        site for https, and let the pool use the connection."""
        protocol = self._protocol
        assert protocol is not None and protocol.transport is not None
        protocol.dataReceived, protocol.connectionLost = self._lent  # type: ignore[method-assign]
        if self._ready.called:  # cancelled meanwhile: nobody waits for this stream
            self._abort()
            return
        transport = protocol.transport
        if self._tls is not None:
            transport.startTLS(self._tls)  # type: ignore[attr-defined]
        self._ready.callback(protocol)
        if rest:  # a site that spoke first: read through TLS if it is on
            transport.protocol.dataReceived(rest)  # type: ignore[attr-defined]

    def _lost(self, reason: Failure) -> None:
        """The proxy hung up while negotiating."""
        if self._protocol is not None:
            self._protocol.dataReceived, self._protocol.connectionLost = self._lent  # type: ignore[method-assign]
        if not self._ready.called:
            self._ready.errback(SocksStreamError(
                f"SOCKS proxy {self._proxy.label} closed the connection while setting up "
                f"the stream to {self._target[0]}:{self._target[1]}"))

    def _fail(self, error: SocksError) -> None:
        """Fail the stream with ``error`` (its message said after the proxy's name)."""
        self._step = ""
        if not self._ready.called:
            self._ready.errback(type(error)(f"SOCKS proxy {self._proxy.label} {error}"))
        self._abort()

    def _abort(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.abortConnection()


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@implementer(IAgentEndpointFactory)
class SocksEndpointFactory:
    """Endpoints through ``proxy`` for Twisted's ``Agent.usingEndpointFactory`` (the
    crawl's handler keeps these connections in a pool of their own, so one is never
    reused for a direct request, or a direct one for a request through the proxy)."""

    def __init__(self, reactor: Any, proxy: SocksProxy, tls_policy: Any, *,
                 timeout: float = 30, bind_address: Any = None) -> None:
        self._reactor = reactor
        self._proxy = proxy
        self._tls_policy = tls_policy
        self._timeout = timeout
        self._bind = bind_address

    def endpointForURI(self, uri: URI) -> SocksClientEndpoint:  # noqa: N802 - Twisted API
        host = uri.host.decode("ascii") if isinstance(uri.host, bytes) else uri.host
        tls = (self._tls_policy.creatorForNetloc(uri.host, uri.port)
               if uri.scheme == b"https" else None)
        return SocksClientEndpoint(self._reactor, self._proxy, host, uri.port, tls=tls,
                                   timeout=self._timeout, bindAddress=self._bind)
