"""A source's proxy URL: which kind it is, what it names, and how to show it.

``http://`` and ``https://`` proxies go to Scrapy's HttpProxyMiddleware; ``socks5://`` and
``socks5h://`` to the crawl's SOCKS5 client (crawler.socks). Kept apart from that client
so that checking a source file does not load Twisted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

SCHEMES = {"socks5": False, "socks5h": True}  # scheme → the proxy resolves names
DEFAULT_PORT = 1080


@dataclass(frozen=True)
class SocksProxy:
    host: str
    port: int
    remote_dns: bool
    username: str = ""
    password: str = ""

    @classmethod
    def parse(cls, url: str) -> SocksProxy:
        """The proxy a ``socks5://`` or ``socks5h://`` URL names; ValueError says what is
        wrong with it."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise ValueError(f"{without_password(url)!r}: the scheme must be socks5:// or "
                             "socks5h://")
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise ValueError(f"{without_password(url)!r}: the port must be a number from "
                             "1 to 65535") from None
        if not parts.hostname:
            raise ValueError(f"{without_password(url)!r}: names no proxy host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"{without_password(url)!r}: a proxy URL is "
                             "scheme://[user:password@]host:port, with nothing after the port")
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        for what, value in (("user name", user), ("password", password)):
            if len(value.encode()) > 255:
                raise ValueError(f"{without_password(url)!r}: the {what} is longer than "
                                 "the 255 bytes SOCKS5 allows")
        if password and not user:
            raise ValueError(f"{without_password(url)!r}: a password needs a user name")
        return cls(parts.hostname, port, SCHEMES[scheme], user, password)

    @property
    def label(self) -> str:
        """The proxy as errors and logs show it: no credentials."""
        return f"{'socks5h' if self.remote_dns else 'socks5'}://{self.host}:{self.port}"

    def pool_key(self) -> tuple[Any, ...]:
        """What a pooled connection through this proxy belongs to: the proxy and the
        credentials (Tor gives other credentials another circuit)."""
        return ("socks", self.host, self.port, self.remote_dns, self.username, self.password)


def without_password(url: str) -> str:
    """``url`` with its password replaced, for error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def is_socks_url(url: str) -> bool:
    return urlsplit(url).scheme.lower().startswith("socks")
