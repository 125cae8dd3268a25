"""How a text page's charset is decided (crawler.charset): pure helpers, and the
middleware on its own (no crawl: tests/faults/test_charset_crawl.py runs one)."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list

from crawler import charset
from crawler.charset import CharsetMiddleware, Reading, guess_single_byte, misfit, reading
from crawler.middlewares import IMAGE_KEY
from crawler.settings import BASE
from crawler.size_cap import TRUNCATED_KEY

FR = "<html><body><h1>Très belle, première fois à Liège</h1></body></html>"
PL = "<p>Biały kot, żółta sukienka, ładna dziewczyna z Łodzi</p>"
RU = "<p>Привет, красивая девушка в Амстердаме</p>"
CZ = "<p>Příliš žluťoučký kůň úpěl ďábelské ódy</p>"
DE = "<p>Schöne Grüße aus Köln, süß und heiß</p>"
NL = "<p>Geïnteresseerd? Één keer per week, café</p>"


# ---------------------------------------------------------------- reading(): what is decided
def test_a_declared_charset_that_fits_costs_nothing_and_changes_nothing() -> None:
    assert reading("text/html; charset=utf-8", FR.encode()) == Reading()
    assert reading("text/html; charset=iso-8859-1", FR.encode("cp1252")) == Reading()
    assert reading("text/html; charset=utf-8", b"<p>plain ascii</p>") == Reading()
    assert reading("text/html", '<meta charset="utf-8"><p>é</p>'.encode()) == Reading()
    assert reading("text/html", b"\xff\xfe" + "<p>é</p>".encode("utf-16-le")) == Reading()


def test_no_charset_on_a_utf8_page_is_no_fault() -> None:
    assert reading("text/html", FR.encode()) == Reading()
    assert reading("", FR.encode()) == Reading()


def test_declared_utf8_sent_in_cp1252_is_read_as_cp1252_and_said() -> None:
    assert reading("text/html; charset=UTF-8", FR.encode("cp1252")) == Reading(
        "cp1252", "charset: declared utf-8 (HTTP header), body is not utf-8; read as cp1252")


def test_no_charset_anywhere_is_guessed_and_said() -> None:
    assert reading("text/html", FR.encode("cp1252")) == Reading(
        "cp1252", "charset: none declared; read as cp1252")
    assert reading("text/html", RU.encode("cp1251")).encoding == "cp1251"


def test_a_meta_that_contradicts_the_header_wins_when_it_fits_the_bytes() -> None:
    body = ('<meta charset="windows-1252">' + FR).encode("cp1252")
    assert reading("text/html; charset=utf-8", body) == Reading(
        "cp1252", "charset: declared utf-8 (HTTP header), body is not utf-8; read as "
                  "cp1252, as its meta declares")


def test_utf8_under_a_single_byte_declaration_is_utf8() -> None:
    body = ('<meta charset="utf-8">' + FR).encode()
    assert reading("text/html; charset=ISO-8859-1", body) == Reading(
        "utf-8", "charset: declared iso-8859-1 (HTTP header), body is utf-8; read as utf-8")


def test_an_unknown_charset_name_is_a_fault_too() -> None:
    assert reading("text/html; charset=klingon", FR.encode()) == Reading(
        "utf-8", "charset: declared klingon (HTTP header), not a known charset; read as utf-8")
    assert reading("text/html; charset=klingon", FR.encode("cp1252")).encoding == "cp1252"


def test_a_bom_that_does_not_fit_is_dropped_so_the_page_reads_by_the_fit() -> None:
    how = reading("text/html", b"\xef\xbb\xbf" + FR.encode("cp1252"))
    assert how == Reading("cp1252", "charset: declared utf-8 (BOM), body is not utf-8; "
                                    "read as cp1252", drop_bom=3)


# ---------------------------------------------------------------- the single-byte guess
@pytest.mark.parametrize(("text", "encoding"), [
    (FR, "cp1252"), (DE, "cp1252"), (NL, "cp1252"),  # Western European: the default
    (PL, "cp1250"),  # cp1252 would put symbols inside words: "bia³y"
    (CZ, "cp1250"),  # bytes cp1252 has no character for (ť is 0x9D)
    (RU, "cp1251"),  # cp1252 would give words of accented letters only: "Ïðèâåò"
])
def test_the_guess_is_cp1252_unless_the_text_says_otherwise(text: str, encoding: str) -> None:
    assert guess_single_byte(text.encode(encoding)) == encoding


def test_the_source_country_breaks_a_tie_and_only_a_tie() -> None:
    assert guess_single_byte(FR.encode("cp1252"), "PL") == "cp1250"  # "Trčs" fits as well
    assert guess_single_byte(RU.encode("cp1251"), "PL") == "cp1251"
    assert guess_single_byte(PL.encode("cp1250"), "NL") == "cp1250"


def test_bytes_no_code_page_reads_fall_back_to_latin1() -> None:
    assert guess_single_byte(b"caf\xe9 \x81\x8d\x8f\x90\x9d") == "iso8859-1"


def test_misfit_counts_what_real_text_does_not_do() -> None:
    assert misfit("première") == misfit("Liège") == misfit("l’été") == 0
    assert misfit("bia³y") == 1  # a symbol inside a word
    assert misfit("Ïðèâåò") == 1  # three accented letters in a row, and more
    assert misfit("Trиs") == 1  # Latin and Cyrillic in one word


# ---------------------------------------------------------------- the middleware
class _Stats:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] += count


def _middleware() -> tuple[CharsetMiddleware, list[tuple[str, str]], _Stats]:
    errors: list[tuple[str, str]] = []

    def record_error(url: str, why: str, kind: str) -> None:
        assert kind == "charset"  # the run counts it among its charset faults
        errors.append((url, why))

    spider = SimpleNamespace(record_error=record_error, source=SimpleNamespace(country="NL"))
    stats = _Stats()
    crawler: Any = SimpleNamespace(spider=spider, stats=stats)
    return CharsetMiddleware(crawler), errors, stats


def _page(body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200,
          **meta: Any) -> tuple[Request, HtmlResponse]:
    request = Request("http://site.test/ad/1", meta=meta)
    return request, HtmlResponse(request.url, status=status, body=body, request=request,
                                 headers={"Content-Type": content_type})


def test_the_middleware_rereads_the_page_and_records_the_fault_for_the_source() -> None:
    mw, errors, stats = _middleware()
    request, response = _page(FR.encode("cp1252"))
    out = mw.process_response(request, response)
    assert isinstance(out, HtmlResponse) and out.body == response.body
    assert "Très belle, première fois à Liège" in out.text
    assert errors == [("http://site.test/ad/1", "charset: declared utf-8 (HTTP header), "
                                                "body is not utf-8; read as cp1252")]
    assert stats.values == {"adtrace/charset": 1}


def test_a_page_that_fits_is_passed_on_as_it_is() -> None:
    mw, errors, _ = _middleware()
    request, response = _page(FR.encode())
    assert mw.process_response(request, response) is response and errors == []


@pytest.mark.parametrize("meta,status", [({TRUNCATED_KEY: True}, 200), ({IMAGE_KEY: True}, 200),
                                         ({"dont_obey_robotstxt": True}, 200), ({}, 404),
                                         ({}, 503)])
def test_pages_the_spider_does_not_read_are_not_checked(meta: dict[str, Any],
                                                        status: int) -> None:
    mw, errors, _ = _middleware()
    request, response = _page(FR.encode("cp1252"), status=status, **meta)
    assert mw.process_response(request, response) is response and errors == []


def test_plain_text_and_binary_responses_are_not_checked() -> None:
    mw, errors, _ = _middleware()
    request = Request("http://site.test/robots.txt")
    for response in (TextResponse(request.url, body=b"caf\xe9", request=request),
                     Response(request.url, body=b"\x89PNG\xe9", request=request)):
        assert mw.process_response(request, response) is response
    assert errors == []


def test_a_failure_inside_is_counted_and_the_page_passed_on_unchanged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Reading:
        raise RuntimeError("boom")

    monkeypatch.setattr(charset, "reading", broken)
    mw, errors, stats = _middleware()
    request, response = _page(FR.encode("cp1252"))
    assert mw.process_response(request, response) is response
    assert errors == [("http://site.test/ad/1",
                       "charset: could not be checked: RuntimeError('boom')")]
    assert stats.values["adtrace/charset"] == 1


def test_without_a_recording_spider_the_fault_is_still_an_error_of_the_run() -> None:
    stats = _Stats()
    mw = CharsetMiddleware(SimpleNamespace(spider=object(), stats=stats))  # type: ignore[arg-type]
    request, response = _page(FR.encode("cp1252"), content_type="text/html")
    assert "Très" in mw.process_response(request, response).text
    assert stats.values == {"adtrace/charset": 1, "adtrace/errors": 1,
                            "adtrace/errors/charset": 1}


def test_it_sees_a_response_after_archive_redirect_and_decompression_before_meta_refresh(
        ) -> None:
    chain = build_component_list(
        Settings({"DOWNLOADER_MIDDLEWARES": BASE["DOWNLOADER_MIDDLEWARES"]})
        .getwithbase("DOWNLOADER_MIDDLEWARES"))
    at = {path.rsplit(".", 1)[-1]: i for i, path in enumerate(chain)}
    # process_response runs from the end of this list to its start
    assert (at["MetaRefreshMiddleware"] < at["CharsetMiddleware"] < at["HttpCompressionMiddleware"]
            < at["RedirectMiddleware"] < at["ArchiveMiddleware"])


def test_not_even_a_failure_to_count_the_fault_stops_the_page() -> None:
    def broken(url: str, why: str, kind: str) -> None:
        raise RuntimeError("store of samples is gone")

    spider = SimpleNamespace(record_error=broken, source=SimpleNamespace(country="NL"))
    mw = CharsetMiddleware(SimpleNamespace(spider=spider, stats=_Stats()))  # type: ignore[arg-type]
    request, response = _page(FR.encode("cp1252"))
    assert mw.process_response(request, response) is response
