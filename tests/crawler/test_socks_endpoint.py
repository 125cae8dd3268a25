"""The SOCKS5 endpoint's handshake, step by step, on Twisted's memory reactor: answers
that come a byte at a time, bytes that follow the reply, a failure told as soon as its
code came, and a download cancelled before or during the handshake (no sockets, no
waiting: the test plays the proxy)."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport

from crawler.proxy_url import SocksProxy
from crawler.socks import SocksClientEndpoint, SocksError, SocksStreamError

OK_REPLY = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x1f\x90"


class Site(Protocol):
    """What the pool would use: it must see only what the site sent."""

    def __init__(self) -> None:
        self.received = b""
        self.lost = False

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted API
        self.received += data

    def connectionLost(self, reason: Any = None) -> None:  # noqa: N802 - Twisted API
        self.lost = True


def dial(url: str = "socks5h://proxy:1080") -> tuple[Any, MemoryReactorClock, list]:
    """An endpoint to site.example:80 through ``url``, dialled on a memory reactor."""
    reactor = MemoryReactorClock()
    endpoint = SocksClientEndpoint(reactor, SocksProxy.parse(url), "site.example", 80)
    outcome: list = []
    d = endpoint.connect(Factory.forProtocol(Site))
    d.addBoth(outcome.append)
    return d, reactor, outcome


def answer(reactor: MemoryReactorClock) -> tuple[Any, StringTransport]:
    """The proxy accepts the TCP connection: the protocol on it and its transport."""
    factory = reactor.tcpClients[0][2]
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1080))
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport


def feed(protocol: Any, data: bytes) -> None:
    for i in range(len(data)):  # a byte at a time: every answer split at every point
        protocol.dataReceived(data[i:i + 1])


def test_a_stream_opens_when_answers_come_a_byte_at_a_time() -> None:
    _d, reactor, outcome = dial("socks5h://me:pw@proxy:1080")
    protocol, transport = answer(reactor)
    assert transport.value() == b"\x05\x01\x02"  # offers the login
    feed(protocol, b"\x05\x02")
    assert transport.value().endswith(b"\x01\x02me\x02pw")
    feed(protocol, b"\x01\x00")
    assert transport.value().endswith(b"\x05\x01\x00\x03\x0csite.example\x00\x50")
    feed(protocol, OK_REPLY + b"HTTP/1.1 200")  # the site's bytes right behind the reply
    site = outcome[0]
    assert isinstance(site, Site) and site.received == b"HTTP/1.1 200"
    protocol.dataReceived(b" OK\r\n")  # and later ones reach it as its own
    assert site.received == b"HTTP/1.1 200 OK\r\n"


def test_a_refusal_is_told_as_soon_as_its_code_came() -> None:
    _d, reactor, outcome = dial()
    protocol, transport = answer(reactor)
    feed(protocol, b"\x05\x00\x05\x05")  # no login; then "connection refused", cut short
    (failure,) = outcome
    assert failure.check(SocksStreamError)
    assert str(failure.value) == ("SOCKS proxy socks5h://proxy:1080 could not reach "
                                  "site.example:80: connection refused")
    assert transport.disconnecting  # the connection to the proxy is dropped


@pytest.mark.parametrize(("answers", "message"), [
    (b"\x04\x5a", "answered as SOCKS version 4, not 5"),
    (b"\x05\xff", "wants a user name and password"),
    (b"\x05\x02", "wants a user name and password"),
    (b"\x05\x01", "chose an authentication method (0x01) that was not offered"),
    (b"\x05\x00\x04\x00", "answered the CONNECT as SOCKS version 4"),
])
def test_a_proxy_that_answers_wrongly_is_named_with_what_it_did(answers: bytes,
                                                                 message: str) -> None:
    _d, reactor, outcome = dial()
    protocol, _ = answer(reactor)
    feed(protocol, answers)
    (failure,) = outcome
    assert failure.check(SocksError) and not failure.check(SocksStreamError)
    assert message in str(failure.value)


def test_a_login_answer_of_another_version_is_not_taken_for_a_yes() -> None:
    _d, reactor, outcome = dial("socks5h://me:pw@proxy:1080")
    protocol, _ = answer(reactor)
    feed(protocol, b"\x05\x02\x05\x00")
    (failure,) = outcome
    assert "answered the login as version 5, not 1" in str(failure.value)


class TLSTransport(StringTransport):
    """A transport that, as Twisted's TCP one, puts a TLS layer in front of the protocol
    on ``startTLS``: what arrives after that is for the layer, not for the protocol."""

    def __init__(self, protocol: Any) -> None:
        super().__init__()
        self.protocol = protocol
        self.tls_received = b""

    def startTLS(self, creator: Any) -> None:  # noqa: N802 - Twisted API
        transport = self

        class Layer(Protocol):
            def dataReceived(self, data: bytes) -> None:  # noqa: N802
                transport.tls_received += data

        self.protocol = Layer()


@pytest.mark.parametrize("tls", [False, True])
def test_bytes_in_the_same_segment_as_the_reply_reach_the_site_protocol(tls: bool) -> None:
    reactor = MemoryReactorClock()
    endpoint = SocksClientEndpoint(reactor, SocksProxy.parse("socks5h://proxy:1080"),
                                   "site.example", 443, tls=object() if tls else None)
    outcome: list = []
    endpoint.connect(Factory.forProtocol(Site)).addBoth(outcome.append)
    protocol = reactor.tcpClients[0][2].buildProtocol(IPv4Address("TCP", "127.0.0.1", 1080))
    transport = TLSTransport(protocol)
    protocol.makeConnection(transport)
    protocol.dataReceived(b"\x05\x00")
    protocol.dataReceived(OK_REPLY + b"\x16\x03\x01 hello")  # the reply and the site's first
    site = outcome[0]
    assert isinstance(site, Site)
    if tls:  # through the TLS layer, never to the HTTP parser as they came
        assert transport.tls_received == b"\x16\x03\x01 hello" and site.received == b""
    else:
        assert site.received == b"\x16\x03\x01 hello"


def test_a_proxy_that_hangs_up_midway_fails_the_stream() -> None:
    _d, reactor, outcome = dial()
    protocol, _ = answer(reactor)
    feed(protocol, b"\x05\x00\x00")
    protocol.connectionLost(None)
    (failure,) = outcome
    assert failure.check(SocksStreamError) and "closed the connection" in str(failure.value)


def test_cancelled_while_dialling_stops_the_dial() -> None:
    d, reactor, outcome = dial()
    d.cancel()
    (failure,) = outcome
    assert failure.check(CancelledError)  # a timeout, not a proxy "that could not be reached"
    assert reactor.connectors[0].stoppedConnecting


def test_cancelled_during_the_handshake_drops_the_connection() -> None:
    d, reactor, outcome = dial()
    protocol, transport = answer(reactor)
    feed(protocol, b"\x05\x00")
    d.cancel()
    assert outcome[0].check(CancelledError) and transport.disconnecting
    feed(protocol, OK_REPLY)  # a late reply is not handed to anyone
    assert len(outcome) == 1
