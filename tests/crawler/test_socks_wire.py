"""The SOCKS5 messages the crawler sends and the replies it reads, byte for byte (RFC 1928
section 4 and 6, RFC 1929); the real exchange is tested through a proxy in
test_socks_proxy."""

from __future__ import annotations

import pytest

from crawler.proxy_url import SocksProxy
from crawler.socks import SocksError, connect_request, credentials, greeting, reply_length


def test_a_connect_names_the_site_by_name_or_by_address() -> None:
    assert connect_request("abc.onion", 80) == b"\x05\x01\x00\x03\x09abc.onion\x00\x50"
    assert connect_request("127.0.0.1", 8080) == b"\x05\x01\x00\x01\x7f\x00\x00\x01\x1f\x90"
    assert connect_request("[::1]", 443) == b"\x05\x01\x00\x04" + b"\x00" * 15 + b"\x01\x01\xbb"
    assert connect_request("bücher.example", 80)[4:5] == bytes([len("xn--bcher-kva.example")])
    with pytest.raises(SocksError, match="cannot be sent"):
        connect_request("a" * 300, 80)


def test_the_login_is_offered_only_when_the_url_has_one() -> None:
    assert greeting(SocksProxy.parse("socks5h://tor:9050")) == b"\x05\x01\x00"
    with_login = SocksProxy.parse("socks5://me:p%40ss@proxy:1080")
    assert greeting(with_login) == b"\x05\x01\x02"
    assert credentials(with_login) == b"\x01\x02me\x04p@ss"
    assert with_login.label == "socks5://proxy:1080"  # what errors show: no password


def test_a_reply_is_read_to_its_end_whatever_its_address() -> None:
    assert reply_length(b"\x05\x00\x00\x01") is None  # not enough to tell yet
    assert reply_length(b"\x05\x00\x00\x01\x7f") == 10
    assert reply_length(b"\x05\x00\x00\x04\x00") == 22
    assert reply_length(b"\x05\x00\x00\x03\x05") == 12
    with pytest.raises(SocksError, match="unknown address type 9"):
        reply_length(b"\x05\x00\x00\x09\x00")
