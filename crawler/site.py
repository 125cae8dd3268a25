"""The approved site of a source: ``base_url``'s host and its subdomains.

A source file is approved for one site. Its section start URLs (crawler.register) and the
listing and ad links the spider follows (crawler.spiders.generic) must stay on it: an
aggregator's link to another site is not what was approved. Photos are not held to it:
sites serve them from CDNs, and they are fetched only as part of an approved ad.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from w3lib.url import canonicalize_url

_SIBLING_PREFIX = re.compile(r"^(?:www\d*|m|mobile)\.")  # www., www2., m. name one site


def web_host(url: str) -> str:
    """The host of an http(s) URL as DNS compares it (lower case, no trailing dot,
    international names in punycode); "" for anything else (another scheme, no host,
    whitespace or control characters anywhere in it)."""
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        return ""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"}:
        return ""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def site_of(base_url: str) -> str:
    """The approved site a ``base_url`` names: its host without a www./m. prefix, unless
    that prefix is the name itself (``m.example`` is not all of ``.example``)."""
    host = web_host(base_url)
    rest = _SIBLING_PREFIX.sub("", host)
    return rest if "." in rest else host


def on_site(url: str, site: str) -> bool:
    """Whether ``url`` is an http(s) page of ``site`` or one of its subdomains."""
    host = web_host(url)
    return bool(host) and (host == site or host.endswith("." + site))


def page_key(url: str) -> tuple[str, str, str]:
    """A page as its site's reader tells it: the site (host without www./m., as
    ``site_of``), the path without a trailing slash, the query; not the scheme. The
    home at https or www. is the home a source's http base URL names."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ("", url, "")
    return (site_of(url), parts.path.rstrip("/") or "/", parts.query)


def listing_key(url: str) -> str:
    """A listing page's identity for the run: the URL as Scrapy's duplicate filter knew
    it (query arguments sorted, escapes normalised, no fragment), so ``?page=3&sort=d``
    and ``?sort=d&page=3`` are read once."""
    return canonicalize_url(url)
