"""Pure extraction: selectors, hostile links, srcset, ad ids, page keys (no network)."""

from __future__ import annotations

import pytest
from parsel import Selector
from test_register import GOOD

from crawler.extract import (
    MalformedLink,
    SelectorError,
    ad_id_of,
    best_from_srcset,
    checked_links,
    http_url,
    image_urls,
    links,
    srcset_candidates,
    strip_scripts,
    text_of,
    without_quoted_addresses,
)
from crawler.register import parse_source
from crawler.site import page_key


def test_text_nodes_are_joined_and_normalised_without_scripts() -> None:
    sel = strip_scripts(Selector(text="<div id=t> a\n<b>b</b><script>evil()</script> c"
                                      "<style>x{}</style>\td</div>"))
    assert text_of(sel, "#t ::text") == "a b c d"
    assert text_of(sel, "xpath://div[@id='t']//text()") == "a b c d"
    assert text_of(sel, "#t") == "a b c d"  # an element selector gives its text


def test_bad_selector_names_itself() -> None:
    with pytest.raises(SelectorError, match=r"bad selector 'xpath://\['"):
        text_of(Selector(text="<p>"), "xpath://[")


def test_only_http_links_survive() -> None:
    assert http_url("http://s.test/a/", "../b#x") == "http://s.test/b"
    for bad in ("javascript:alert(1)", "data:text/html,x", "mailto:a@b", "#top", " "):
        assert http_url("http://s.test/", bad) == ""
    sel = Selector(text='<a href="/1">1</a><a href="/1">again</a><a href="ftp://x/2">2</a>')
    assert links(sel, "a::attr(href)", "http://s.test/") == ["http://s.test/1"]


def test_links_are_escaped_as_fetched_and_malformed_ones_named() -> None:
    assert http_url("http://s.test/", "/ad/café 42") == "http://s.test/ad/caf%C3%A9%2042"
    assert http_url("http://s.test/", "//Bücher.test/x") == "http://xn--bcher-kva.test/x"
    for bad in ("http://s.test:443:/ad/2", "http://[x/p.png", "http://s.test:99999/a"):
        with pytest.raises(MalformedLink):
            http_url("http://s.test/", bad)
    sel = Selector(text='<a href="/a">a</a><a href="http://s.test:1:2/b">b</a><a href="/c">c</a>')
    found, malformed = checked_links(sel, "a::attr(href)", "http://s.test/")
    assert found == ["http://s.test/a", "http://s.test/c"] and len(malformed) == 1
    assert "'http://s.test:1:2/b'" in malformed[0]


def test_srcset_urls_may_hold_commas() -> None:
    cdn = "https://res.cdn.test/image/upload/{},c_fill/a.jpg"
    srcset = f"{cdn.format('w_300')} 300w, {cdn.format('w_800')} 800w"
    assert srcset_candidates(srcset) == [(cdn.format("w_300"), "300w"),
                                         (cdn.format("w_800"), "800w")]
    assert best_from_srcset(srcset) == cdn.format("w_800")
    assert srcset_candidates("a.jpg, b.jpg 2x,,c.jpg") == [("a.jpg", ""), ("b.jpg", "2x"),
                                                           ("c.jpg", "")]
    assert srcset_candidates(" , ") == []
    assert best_from_srcset("a.jpg 800w 600h, b.jpg 400w 300h") == "a.jpg"
    # only ASCII whitespace separates (the HTML standard): a no-break space is in the URL
    assert srcset_candidates("a\u00a0b.jpg 1x,\tc.jpg\n2x") == [("a\u00a0b.jpg", "1x"),
                                                                 ("c.jpg", "2x")]


def test_a_page_key_ignores_scheme_www_and_a_trailing_slash() -> None:
    home = page_key("http://site.test/")
    for same in ("https://site.test", "http://www.site.test/", "https://m.site.test/"):
        assert page_key(same) == home, same
    assert page_key("http://site.test/city/a") == page_key("https://www.site.test/city/a/")
    assert page_key("http://site.test/?removed=1") != home  # a query is another page
    assert page_key("http://other.test/") != home


def test_images_from_data_src_srcset_or_src() -> None:
    assert best_from_srcset("a.jpg 320w, b.jpg 1024w, c.jpg 640w") == "b.jpg"
    assert best_from_srcset("a.jpg 1x, b.jpg 2x") == "b.jpg"
    sel = Selector(text='<img data-src="/l.jpg" src="/ph.gif"><img srcset="/s.jpg 1x, /m.jpg 2x">'
                        '<img src="data:image/gif;base64,AAA"><img src="/p.jpg">')
    assert image_urls(sel, "img", "http://s.test/") == [
        "http://s.test/l.jpg", "http://s.test/m.jpg", "http://s.test/p.jpg"]
    assert image_urls(sel, "img::attr(srcset)", "http://s.test/") == ["http://s.test/m.jpg"]


def test_a_lazy_image_gives_its_real_address_not_its_placeholder() -> None:
    sel = Selector(text=(
        '<img src="/blank.gif" data-lazy-src="/a.jpg">'
        '<img src="/spinner.gif" data-original="/b.jpg">'
        '<img src="/blank.gif" data-srcset="/c-320.jpg 320w, /c-800.jpg 800w">'
        '<picture><source srcset="/d-1.webp 1x, /d-2.webp 2x"><img src="/d.jpg"></picture>'))
    assert image_urls(sel, "img", "http://s.test/") == [
        "http://s.test/a.jpg", "http://s.test/b.jpg", "http://s.test/c-800.jpg",
        "http://s.test/d.jpg"]
    assert image_urls(sel, "picture source", "http://s.test/") == ["http://s.test/d-2.webp"]
    assert "http://s.test/blank.gif" not in image_urls(sel, "img", "http://s.test/")


def test_ad_id_from_url_then_css_then_canonical_url() -> None:
    src = parse_source(GOOD)
    assert ad_id_of(src, "https://a.example/ad/42?x=1") == "42"
    no_regex = parse_source({**GOOD, "selectors": {"ad_links": "a", "ad_id": {"css": "#id::text"}}})
    assert ad_id_of(no_regex, "https://a.example/x", Selector(text="<b id=id> 7 </b>")) == "7"
    assert ad_id_of(no_regex, "https://A.example/x#f", Selector(text="<p>")) == \
        "https://a.example/x"


def test_a_page_a_redirect_led_to_is_not_named_by_the_address_it_quotes() -> None:
    """A block or login page quotes where it was sent from (in its query, after it, or in
    its fragment); an id in that quote is not the page's own. An id the address gives
    itself (path, a query value of its own) still is."""
    src = parse_source(GOOD)  # ids: /ad/(\d+)
    assert without_quoted_addresses("https://a.example/captcha?return=/ad/4&lang=nl") == \
        "https://a.example/captcha?return=&lang=nl"
    assert without_quoted_addresses("https://a.example/x?next=https%3A%2F%2Fa.example%2Fad%2F4") \
        == "https://a.example/x?next="
    assert without_quoted_addresses("https://a.example/ad/4?id=4&p") == \
        "https://a.example/ad/4?id=4&p"
    quoting = "https://a.example/captcha?return=/ad/4"
    assert ad_id_of(src, quoting) == "4"  # a link as listed: the regex reads all of it
    assert ad_id_of(src, quoting, led_to=True) == quoting  # where a redirect led: no id
    assert ad_id_of(src, "https://a.example/ad/4/?from=/home", led_to=True) == "4"
    in_fragment = "https://a.example/login#return=/ad/4"  # the fragment is never the page's
    assert without_quoted_addresses(in_fragment) == "https://a.example/login"
    assert ad_id_of(src, in_fragment, led_to=True) == "https://a.example/login"
    assert ad_id_of(src, "https://a.example/login?x=1#/ad/4", led_to=True) == \
        "https://a.example/login?x=1"
    by_query = parse_source({**GOOD, "selectors": {**GOOD["selectors"],
                                                   "ad_id": {"from_url": r"[?&]id=(\d+)"}}})
    assert ad_id_of(by_query, "https://a.example/view?id=4&back=/list", led_to=True) == "4"
    assert ad_id_of(by_query, "https://a.example/view?back=/list&id=4", led_to=True) == "4"
    assert ad_id_of(by_query, "https://a.example/login?next=/view?id=4", led_to=True) == \
        "https://a.example/login?next=/view?id=4"
    unescaped = "https://a.example/login?next=/view.php?cat=2&id=4"  # '&id=4' is the quote's
    assert without_quoted_addresses(unescaped) == "https://a.example/login?next="
    escaped = "https://a.example/login?next=%2Fview.php%3Fcat%3D2&id=4"  # the page's own
    assert without_quoted_addresses(escaped) == "https://a.example/login?next=&id=4"
    assert ad_id_of(by_query, unescaped, led_to=True) == unescaped
