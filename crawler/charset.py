"""Charset faults: a page whose bytes do not fit the charset it declares, or that declares
none, is read with the encoding that fits, and the fault is counted for its source.

Scrapy reads a page by the first declaration it finds (a byte order mark, the HTTP
header's ``charset``, a ``<meta>`` or XML declaration) and replaces every byte that does
not fit with U+FFFD; a page that declares nothing is guessed by charset_normalizer, which
reads short French or Dutch text in cp1252 as cp1250 ("Trčs belle"). Neither was seen.
Here, for the pages the spider reads (2xx HTML, XML and JSON):

- declared, and the body decodes strictly with it: nothing changes (one strict decode,
  of the bytes above 0x7F only for a code page, none for an all-ASCII body: about 13 µs
  for a 20 KB UTF-8 page, where Scrapy's own decode takes 20 to 40). A single-byte
  declaration (iso-8859-1…) over a body that is valid UTF-8 with non-ASCII bytes is
  UTF-8 all the same (servers that default to latin-1 send UTF-8 pages under it;
  latin-1 text is valid UTF-8 almost never);
- declared, and the body does not fit: read with the best fitting encoding, in this
  order: another declaration of the page that fits (the meta when the header is wrong),
  UTF-8, the best single-byte guess; counted as "charset: declared X (where), body is
  not X; read as Y";
- none declared: UTF-8 if the body decodes strictly as UTF-8 (not a fault), else the
  single-byte guess, counted as "charset: none declared; read as Y".

The single-byte guess (``guess_single_byte``) is honest about what it knows: the sites
are Western European, so cp1252 unless the text gives evidence against it. Each candidate
(cp1252, cp1250, cp1251, then iso-8859-1, which reads any byte) must decode every byte
above 0x7F, and is scored on the words holding such bytes: a symbol inside a word (cp1252
reads Polish "biały" as "bia³y") and a word of three accented letters in a row (cp1252
reads Cyrillic "Привет" as "Ïðèâåò") count against a Latin reading; a word mixing
Cyrillic and Latin letters ("Trиs") counts against cp1251. The lowest score wins; a tie
goes to cp1252, or to the source country's own code page (cp1250 for PL, CZ, HU, RO…,
cp1251 for BG, RU, UA…). Czech or Hungarian text with none of those tells is read as
cp1252: the fault's message says which encoding was guessed, so a reader knows.

The archive keeps the bytes as received (crawler.middlewares.ArchiveMiddleware wrote them
before this runs); only the text the spider reads changes. Any exception here is counted
and the response passed on unchanged: a charset never stops a crawl.
"""

from __future__ import annotations

import codecs
import encodings
import importlib
import itertools
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, JsonResponse, Request, Response, XmlResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from crawler.middlewares import IMAGE_KEY
from crawler.size_cap import TRUNCATED_KEY
from indexer.crawl_runs import count_error

log = logging.getLogger(__name__)
STAT = "adtrace/charset"  # charset faults (each is an error of the run too)
CHECKED = (HtmlResponse, XmlResponse, JsonResponse)
# the single-byte guesses, the default first; iso-8859-1 last: it reads every byte
SINGLE_BYTE = ("cp1252", "cp1250", "cp1251", "iso8859-1")
CODE_PAGE_OF_COUNTRY = {
    **dict.fromkeys(("PL", "CZ", "SK", "HU", "RO", "HR", "SI", "AL", "BA"), "cp1250"),
    **dict.fromkeys(("BG", "RU", "UA", "BY", "RS", "MK"), "cp1251"),
}
# the guess scores up to MAX_WORDS distinct words among the first MAX_SCANNED that hold
# bytes above 0x7F: enough to decide, and bounded on huge pages
MAX_WORDS, MAX_SCANNED = 200, 500
_ASCII = bytes(range(128))
# a word (ASCII letters and bytes above 0x7F) that holds a byte above 0x7F; it starts at
# a word's start and does not backtrack (possessive), so a scan is linear in the page
_WORD = re.compile(rb"(?<![A-Za-z\x80-\xff])[A-Za-z]*+[\x80-\xff][A-Za-z\x80-\xff]*+")
_HEADER_LABEL = re.compile(r"charset\s*=\s*[\"']?([^\"';,\s]+)", re.IGNORECASE)
# encodings in which ASCII text is not its ASCII bytes; named without a byte order (no
# BOM), they are read big-endian, as w3lib reads them
_WIDE = ("utf-16", "utf-32")


@dataclass(frozen=True)
class Declaration:
    codec: str  # the Python codec Scrapy decodes by ("" when the label names none)
    label: str  # as the page wrote it (the codec's name for a BOM or a meta)
    where: str  # "BOM", "HTTP header" or "meta"


@dataclass(frozen=True)
class Reading:
    """How to read a page: ``encoding`` ("" when Scrapy's own reading is right), the fault
    to count ("" when none), and the length of a byte order mark to drop (a BOM that does
    not fit: Scrapy would read the body by it whatever encoding it is told)."""

    encoding: str = ""
    fault: str = ""
    drop_bom: int = 0


FINE = Reading()


def header_declaration(content_type: str) -> Declaration | None:
    """The charset the Content-Type header names, as Scrapy reads it (w3lib)."""
    codec = http_content_type_encoding(content_type)
    if codec is not None:
        m = _HEADER_LABEL.search(content_type)
        return Declaration(codec, m.group(1).lower() if m else codec, "HTTP header")
    if "charset" in content_type.lower() and (m := _HEADER_LABEL.search(content_type)):
        return Declaration("", m.group(1), "HTTP header")  # a name no codec answers to
    return None


def declarations(content_type: str, body: bytes) -> list[Declaration]:
    """Every declaration of the page, in the order Scrapy honours them: BOM, HTTP header,
    meta (or XML declaration)."""
    found = []
    bom_codec, _ = read_bom(body)
    if bom_codec:
        found.append(Declaration(bom_codec, bom_codec, "BOM"))
    header = header_declaration(content_type)
    if header is not None:
        found.append(header)
    meta = html_body_declared_encoding(body)
    if meta:
        found.append(Declaration(meta, meta, "meta"))
    return found


def _first_declaration(content_type: str, body: bytes) -> tuple[Declaration | None,
                                                                 Declaration | None]:
    """The declaration Scrapy reads the page by, and an unknown label met before it; the
    meta is scanned only when no BOM or header names a codec (as Scrapy does)."""
    bom_codec, _ = read_bom(body)
    if bom_codec:
        return Declaration(bom_codec, bom_codec, "BOM"), None
    header = header_declaration(content_type) if content_type else None
    if header is not None and header.codec:
        return header, None
    unknown = header
    meta = html_body_declared_encoding(body)
    return (Declaration(meta, meta, "meta") if meta else None), unknown


def decodes(body: bytes, codec: str) -> bool:
    """Whether ``body`` decodes strictly with ``codec``; for a code page, only its bytes
    above 0x7F are decoded (each byte is a character: the rest cannot fail)."""
    if single_byte(codec):
        body = body.translate(None, _ASCII)
    try:
        body.decode(codec + "-be" if codec in _WIDE else codec)
    except (UnicodeError, LookupError):
        return False
    return True


@lru_cache(maxsize=64)
def single_byte(codec: str) -> bool:
    """Whether ``codec`` maps each byte to one character (a code page, not UTF-8 or a
    multi-byte Asian encoding)."""
    try:
        name = codecs.lookup(codec).name
        module = importlib.import_module(f"encodings.{encodings.normalize_encoding(name)}")
    except (LookupError, ImportError):
        return False
    return getattr(module, "decoding_table", None) is not None


def reading(content_type: str, body: bytes, country: str = "") -> Reading:
    """How to read ``body`` (a 2xx text page) given its Content-Type header; ``country``
    (the source's) breaks a tie between single-byte guesses."""
    declared, unknown = _first_declaration(content_type, body)
    if declared is None:
        if body.isascii() or decodes(body, "utf-8"):
            if unknown is None:
                return FINE  # Scrapy reads it as UTF-8 (or ASCII) itself
            return Reading("utf-8", f"charset: declared {unknown.label} ({unknown.where}), "
                                    "not a known charset; read as utf-8")
        guess = guess_single_byte(body, country)
        if unknown is not None:
            return Reading(guess, f"charset: declared {unknown.label} ({unknown.where}), "
                                  f"not a known charset; read as {guess}")
        return Reading(guess, f"charset: none declared; read as {guess}")
    drop = len(read_bom(body)[1] or b"") if declared.where == "BOM" else 0
    text = body[drop:] if drop else body
    if not declared.codec.startswith(_WIDE) and text.isascii():
        return FINE
    if decodes(text, declared.codec):
        if single_byte(declared.codec) and decodes(text, "utf-8"):
            return Reading("utf-8", f"charset: declared {declared.label} ({declared.where}), "
                                    "body is utf-8; read as utf-8")
        return FINE
    encoding, why = best_fit(content_type, text, declared, country)
    return Reading(encoding, f"charset: declared {declared.label} ({declared.where}), body is "
                             f"not {declared.label}; read as {encoding}{why}", drop)


def best_fit(content_type: str, body: bytes, declared: Declaration,
             country: str = "") -> tuple[str, str]:
    """The encoding to read a body by that does not fit its declaration ``declared``, and
    why (said after it in the fault): another declaration that fits, UTF-8, or a guess."""
    for other in declarations(content_type, body):
        if other.codec and other.codec != declared.codec and decodes(body, other.codec):
            return other.codec, f", as its {other.where} declares"
    if decodes(body, "utf-8"):
        return "utf-8", ""
    return guess_single_byte(body, country), ""


def guess_single_byte(body: bytes, country: str = "") -> str:
    """The single-byte encoding that best fits ``body`` (see the module docstring)."""
    high = body.translate(None, _ASCII)  # what can tell code pages apart
    preferred = CODE_PAGE_OF_COUNTRY.get(country.upper(), "cp1252")
    order = [preferred, *(c for c in SINGLE_BYTE if c != preferred)]
    fitting = [c for c in order if decodes(high, c)]  # every byte above 0x7F
    if len(fitting) == 1:
        return fitting[0]
    words: set[bytes] = set()
    for m in itertools.islice(_WORD.finditer(body), MAX_SCANNED):
        words.add(m.group())
        if len(words) == MAX_WORDS:
            break
    score = {c: sum(misfit(w.decode(c)) for w in words) for c in fitting}
    return min(fitting, key=lambda c: (score[c], fitting.index(c)))


def misfit(word: str) -> int:
    """How badly a word read with some encoding looks like real text: one for a symbol
    between two letters ("bia³y"), one for three accented Latin letters in a row
    ("Ïðèâåò"), one for a word mixing Latin and other letters ("Trиs")."""
    bad, run, latin, other = 0, 0, False, False
    for i, ch in enumerate(word):
        if ch.isascii():
            run, latin = 0, latin or ch.isalpha()
        elif ch.isalpha():
            if "LATIN" in unicodedata.name(ch, ""):
                latin, run = True, run + 1
                bad += run == 3
            else:
                other, run = True, 0
        else:
            run = 0
            inside = 0 < i < len(word) - 1 and word[i - 1].isalpha() and word[i + 1].isalpha()
            bad += inside and unicodedata.category(ch)[0] not in "PZ"
    return bad + (latin and other)


def reread(response: Response, country: str = "") -> tuple[Response, str]:
    """``response`` read with the encoding its bytes fit (itself if that is what it
    declares), and the fault ('' if none): what the middleware makes of a page, also
    for a page read back from the archive (crawler.journal_replay)."""
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    how = reading(content_type, response.body, country)
    if not how.encoding:
        return response, how.fault
    if how.drop_bom:
        return (response.replace(body=response.body[how.drop_bom:], encoding=how.encoding),
                how.fault)
    return response.replace(encoding=how.encoding), how.fault


class CharsetMiddleware:
    """Downloader middleware: re-read a text page whose charset does not fit its bytes,
    and count the fault for the source (the spider's ``record_error``: URL and reason in
    the run record, ``crawl status`` and the run's error count). Sits below the archive
    (it sees the bytes as archived) and the decompression (it sees the page's own bytes):
    see crawler.settings."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._country: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CharsetMiddleware:
        return cls(crawler)

    def country(self) -> str:
        if self._country is None:
            source = getattr(self.crawler.spider, "source", None)
            self._country = str(getattr(source, "country", "") or "")
        return self._country

    def process_response(self, request: Request, response: Response,
                         spider: Any = None) -> Response:
        if (not isinstance(response, CHECKED) or not 200 <= response.status < 300
                or request.meta.get(TRUNCATED_KEY) or request.meta.get(IMAGE_KEY)
                or request.meta.get("dont_obey_robotstxt")):
            return response
        try:
            read, fault = reread(response, self.country())
            if fault:
                self._record(response.url, fault)
            return read
        except Exception as exc:  # noqa: BLE001 - a charset never stops the crawl
            try:
                self._record(response.url, f"charset: could not be checked: {exc!r}")
            except Exception:  # noqa: BLE001 - not even when counting it fails
                log.exception("%s: a charset fault could not be counted", response.url)
            return response

    def _record(self, url: str, reason: str) -> None:
        """Count the fault for the source, with its URL and reason (as CrawlMonitor does)."""
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value(STAT)
        record = getattr(self.crawler.spider, "record_error", None)
        if callable(record):
            record(url, reason, "charset")
        else:
            if stats is not None:
                count_error(stats, "charset")
            log.warning("%s: %s", url, reason)
