"""Pure extraction from a page, driven by a source's selectors.

Selectors are CSS (parsel, with ``::text`` / ``::attr()``) or XPath when prefixed
with ``xpath:``. Ad pages are hostile input: values are plain text only, whitespace
normalised, bounded in length; URLs are resolved against the page and only http(s)
is kept (no ``javascript:`` or ``data:``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector, SelectorList
from w3lib.url import safe_url_string

from crawler.source import Source
from crawler.structured import is_structured, structured_value

MAX_FIELD_CHARS = 20_000
_WS = re.compile(r"\s+")


class SelectorError(ValueError):
    """A selector in a source file is not valid CSS/XPath; names the selector."""


def strip_scripts(sel: Selector) -> Selector:
    """Remove script, style, noscript and template elements (keeping tail text) in place:
    their content is never ad text."""
    for node in sel.xpath("//script | //style | //noscript | //template"):
        el = node.root
        parent = el.getparent()
        if parent is None:
            continue
        if el.tail:
            prev = el.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + el.tail
            else:
                parent.text = (parent.text or "") + el.tail
        parent.remove(el)
    return sel


def select(sel: Selector, expr: str) -> SelectorList:
    """Apply one selector expression (CSS, or XPath after ``xpath:``)."""
    expr = expr.strip()
    try:
        if expr.startswith("xpath:"):
            return sel.xpath(expr[len("xpath:"):].strip())
        return sel.css(expr)
    except Exception as exc:  # parsel raises several types for bad expressions
        raise SelectorError(f"bad selector {expr!r}: {exc}") from exc


def values(sel: Selector, expr: str) -> list[str]:
    """Every string the selector yields (elements give their text), stripped, non-empty."""
    out = []
    for item in select(sel, expr):
        root = item.root
        text = item.get() if isinstance(root, str) else " ".join(item.xpath(".//text()").getall())
        text = text.strip()
        if text:
            out.append(text)
    return out


def text_of(sel: Selector, expr: str) -> str:
    """All text nodes a selector yields, joined and whitespace-normalised."""
    return _WS.sub(" ", " ".join(values(sel, expr))).strip()[:MAX_FIELD_CHARS]


def fields_of(sel: Selector, source: Source, jsonld: list[Any] | None = None
              ) -> tuple[str, str, dict[str, str]]:
    """(title, text, attributes) from a source's field selectors; ``jsonld:``/``microdata:``
    selectors read structured data (``jsonld`` = the page's objects, read before scripts
    were stripped)."""
    found = {name: (structured_value(sel, jsonld or [], expr)[:MAX_FIELD_CHARS]
                    if is_structured(expr) else text_of(sel, expr))
             for name, expr in source.selectors.fields.items()}
    title = found.pop("title", "")
    text = found.pop("text", "")
    return title, text, {k: v for k, v in found.items() if v}


class MalformedLink(ValueError):
    """An http(s) link no URL can be made of (a port that is no number, a broken IPv6
    host): what a page's markup gave, not something to fetch."""


def http_url(base: str, href: str) -> str:
    """``href`` resolved against ``base`` if it is an http(s) URL, else '' (not a web
    link: javascript:, mailto:, a fragment…), escaped as Scrapy requests it (a space as
    %20, a name in punycode): the address a page is fetched, archived and stored under,
    so that a link is known by it. Raises MalformedLink for an http(s) link that Scrapy
    could not request: ad markup is hostile, and one bad link must cost itself only,
    never the rest of its page."""
    href = href.strip()
    if not href or href.startswith(("javascript:", "data:", "mailto:", "tel:", "#")):
        return ""
    try:
        url = urljoin(base, href).split("#", 1)[0]
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"}:
            return ""
        _ = parts.port  # raises for a port that is no number, as a Request would
        if not parts.hostname:
            raise ValueError("no host")
        return safe_url_string(url, "utf-8")
    except ValueError as exc:
        raise MalformedLink(f"{href[:200]!r}: {exc}") from None


def links(sel: Selector, expr: str, base: str) -> list[str]:
    """Distinct absolute http(s) links a selector yields, in page order (malformed ones
    left out: ``checked_links`` says which)."""
    return checked_links(sel, expr, base)[0]


def checked_links(sel: Selector, expr: str, base: str) -> tuple[list[str], list[str]]:
    """(distinct absolute http(s) links a selector yields, in page order; the values
    that looked like web links but are malformed, with why)."""
    found: list[str] = []
    malformed: list[str] = []
    for value in values(sel, expr) if expr else ():
        try:
            url = http_url(base, value)
        except MalformedLink as exc:
            malformed.append(str(exc))
            continue
        if url:
            found.append(url)
    return list(dict.fromkeys(found)), malformed


# the HTML standard's whitespace: a no-break space (U+00A0) inside a URL is part of it
ASCII_SPACE = " \t\n\f\r"


def srcset_candidates(srcset: str) -> list[tuple[str, str]]:
    """(URL, descriptor) of each candidate of a srcset, in order, parsed as the HTML
    standard does: a URL runs to the next whitespace (it may hold commas: a CDN's
    ``w_300,c_fill`` path is one URL) and loses its trailing commas, which then end the
    candidate; else its descriptor ("800w", "2x") runs to the next comma."""
    out: list[tuple[str, str]] = []
    pos, n = 0, len(srcset)
    while True:
        while pos < n and (srcset[pos] in ASCII_SPACE or srcset[pos] == ","):
            pos += 1
        if pos >= n:
            return out
        start = pos
        while pos < n and srcset[pos] not in ASCII_SPACE:
            pos += 1
        url = srcset[start:pos]
        if url.endswith(","):
            out.append((url.rstrip(","), ""))
            continue
        comma = srcset.find(",", pos)
        end = n if comma < 0 else comma
        out.append((url, srcset[pos:end].strip(ASCII_SPACE)))
        pos = end


def best_from_srcset(srcset: str) -> str:
    """The widest candidate of a srcset ("a.jpg 320w, b.jpg 800w" → b.jpg)."""
    best, best_w = "", -1.0
    for url, descriptor in srcset_candidates(srcset):
        width = 0.0
        for token in descriptor.split():  # "800w", "2x"; a height ("600h") is passed over
            if token[:-1].replace(".", "", 1).isdigit() and token[-1:] in ("w", "x"):
                width = float(token[:-1]) * (1000 if token.endswith("x") else 1)
                break
        if width > best_w:
            best, best_w = url, width
    return best


# where lazy loaders keep an image's real address, most telling first; ``src`` is then
# a placeholder (a blank GIF, a spinner), read only when none of these is there
LAZY_SRC = ("data-src", "data-lazy-src", "data-original", "data-lazy")
LAZY_SRCSET = ("data-srcset", "data-lazy-srcset")


def image_urls(sel: Selector, expr: str, base: str) -> list[str]:
    """Image URLs, one per element an element selector finds (``div.gallery img``,
    ``picture source``): its lazy-loaded address (LAZY_SRC, then the widest of
    LAZY_SRCSET), else the widest of its srcset, else its src. An attribute selector
    (``img::attr(src)``) yields every value as it is: ``img::attr(data-src),
    img::attr(src)`` takes a lazy image's placeholder too, so elements are the way to
    select lazy-loaded images."""
    if not expr:
        return []
    found: list[str] = []
    for item in select(sel, expr):
        if isinstance(item.root, str):
            value = item.root.strip()
            candidates = [best_from_srcset(value) if _looks_like_srcset(value) else value]
        else:
            attrib = item.attrib
            candidates = [*(attrib.get(a, "") for a in LAZY_SRC),
                          *(best_from_srcset(attrib.get(a, "")) for a in LAZY_SRCSET),
                          best_from_srcset(attrib.get("srcset", "")), attrib.get("src", "")]
        for cand in candidates:
            try:
                url = http_url(base, cand)
            except MalformedLink:
                continue  # a broken address: the element's next candidate, if any
            if url:
                found.append(url)
                break
    return list(dict.fromkeys(found))


def _looks_like_srcset(value: str) -> bool:
    return "," in value or bool(re.search(r"\s\d+(\.\d+)?[wx]\b", value))


def ad_id_of(source: Source, url: str, sel: Selector | None = None, *,
             led_to: bool = False) -> str:
    """The site's own ad id: from the URL regex, else CSS on the page, else the URL.

    ``led_to``: ``url`` is where a redirect led. Block, login and consent pages quote the
    address they were sent from (``/captcha?return=/ad/4``, ``?next=https%3A%2F%2F…``),
    and the regex would find the ad's id in that quote: such a page would be read as the
    ad, a false version of it. So the regex reads such a URL without its fragment and
    without its query from the first value that is an address on
    (``without_quoted_addresses``); an id the URL names itself, in its path or a query
    value of its own before the quote (``?id=4&back=/list``), is still found."""
    if source.selectors.ad_id_from_url:
        m = re.search(source.selectors.ad_id_from_url,
                      without_quoted_addresses(url) if led_to else url)
        if m and m.group(1):
            return m.group(1)
    if source.selectors.ad_id_css and sel is not None:
        value = text_of(sel, source.selectors.ad_id_css)
        if value:
            return value[:200]
    return canonical_url(url)


_QUOTED_ADDRESS = re.compile(r"/|%2f", re.IGNORECASE)  # a path or URL, as is or %-escaped


def without_quoted_addresses(url: str) -> str:
    """``url`` without its fragment, and with the query values that are addresses (a path
    or a URL, as is or %-escaped) left empty: ``/captcha?return=/ad/4&lang=nl`` gives
    ``/captcha?return=&lang=nl``. A fragment names no page of the site's (it is never
    sent; ``/login#return=/ad/4``). A quoted address with a query of its own written
    unescaped may not have escaped its ``&`` either (``?next=/view?cat=2&id=4``: ``&id=4``
    is the quote's), so after such a value the rest of the query is taken for part of
    it; after any other (``?back=/list&id=4``, ``?next=%2Fview%3Fcat%3D2&id=4``) the
    values that follow are the page's own."""
    base, mark, query = url.split("#", 1)[0].partition("?")
    if not mark:
        return base
    kept = []
    for part in query.split("&"):
        name, equals, value = part.partition("=")
        if equals and _QUOTED_ADDRESS.search(value):
            kept.append(name + equals)
            if "?" in value:  # a query of its own, not escaped: its '&' may not be either
                break
            continue
        kept.append(part)
    return f"{base}?{'&'.join(kept)}"


def needs_page_for_id(source: Source, url: str) -> bool:
    """Only the page at ``url`` can say which ad it is: the source reads ids from pages
    (``ad_id: css``) and its URL regex, if any, does not match this URL."""
    return bool(source.selectors.ad_id_css) and ad_id_of(source, url) == canonical_url(url)


def canonical_url(url: str) -> str:
    """The fallback identity: the URL without fragment, lower-case host."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.lower(), fragment="").geturl()


def is_removed(sel: Selector, source: Source) -> bool:
    marker = source.selectors.removed_marker
    return bool(marker) and bool(select(sel, marker))


def is_empty_listing(sel: Selector, source: Source) -> bool:
    """The page is the site's "no ads here" notice (``selectors.empty_listing``): a listing
    with no ad links is complete only then; a block page or a new layout is not that."""
    marker = source.selectors.empty_listing
    return bool(marker) and bool(select(sel, marker))
