"""A source's proxy URL: which kind it is, what it names, and how to show it.

``http://`` and ``https://`` proxies go to Scrapy's HttpProxyMiddleware; ``socks5://`` and
``socks5h://`` to the crawl's SOCKS5 client (crawler.socks). Kept apart from that client
so that checking a source file does not load Twisted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import SplitResult, unquote, urlsplit

SCHEMES = {"socks5": False, "socks5h": True}  # scheme → the proxy resolves names
DEFAULT_PORT = 1080


@dataclass(frozen=True)
class SocksProxy:
    host: str
    port: int
    remote_dns: bool
    username: str = ""
    password: str = field(default="", repr=False)  # never in a traceback or a log

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
        _nothing_after_the_port(url, parts)
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


def without_password(url: str) -> str:
    """``url`` with everything before its last ``@`` masked (a login, or what may be one),
    for error messages: read without a URL parser, which refuses the malformed URLs a
    message must still show (a mistyped ``://`` among them)."""
    if "@" not in url:
        return url
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    return f"{scheme}{sep}***@{rest.rpartition('@')[2]}"


def check_http_proxy(url: str) -> None:
    """ValueError if ``url`` is no usable ``http(s)://[user:password@]host[:port]``."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise ValueError(f"{without_password(url)!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{without_password(url)!r} must be an http://, https://, "
                         "socks5:// or socks5h:// proxy URL")
    _nothing_after_the_port(url, parts)


def _nothing_after_the_port(url: str, parts: SplitResult) -> None:
    """A path, query or fragment in a proxy URL is a typo, and Scrapy would read an ``@``
    in it as the end of a login."""
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{without_password(url)!r}: a proxy URL is "
                         "scheme://[user:password@]host:port, with nothing after the port")


def is_socks_url(url: str) -> bool:
    """Whether ``url`` names a SOCKS proxy (by its scheme: a malformed rest of the URL is
    for ``SocksProxy.parse`` to refuse, with its reason)."""
    return url.lower().startswith("socks")
