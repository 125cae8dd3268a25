"""Hostile content through the whole chain, in a real headless Chromium.

Demo ads that all carry payloads and a hand-made hostile ad (script, event handlers,
``javascript:`` links, CSS and iframes pointing outside, entity tricks, a formula title,
an SVG "image" with script) were crawled for real into a store (see conftest). Here a
browser signs in and opens search, every ad, its archived capture, an identifier page
and the CSV export: no dialog opens, no payload marker is set, nothing is requested
from anywhere but the app, no element points anywhere else (not even one the CSP would
stop), every page has the security headers and every form a CSRF token.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest
from hostile_world import EVIL, PASSWORD, Hostile

pytestmark = pytest.mark.browser
MARKERS = ("<script", "onerror", "javascript:", "&lt;", "Lorem ipsum dolor sit amet, cons")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

INERT_JS = """() => ({
  pwned: window.__pwned === undefined ? null : String(window.__pwned),
  inlineScripts: [...document.querySelectorAll('script')].filter(s => !s.src && !/json/i.test(s.type)).length,
  handlers: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
      .filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name)),
  jsLinks: [...document.querySelectorAll('[href],[src],[action]')].map(e =>
      e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))
      .filter(v => /^\\s*javascript:/i.test(v)),
  foreign: [...document.querySelectorAll('iframe,object,embed,svg script')]
      .filter(e => !(e.tagName === 'IFRAME' && e.hasAttribute('sandbox')
                     && !/allow-scripts/.test(e.getAttribute('sandbox'))
                     && e.src.startsWith(location.origin + '/')))  // the app's own, inert
      .map(e => e.tagName),
  loaders: [  // CSS as the browser read it (escapes undone) that could fetch anything
      ...[...document.styleSheets].filter(sheet => sheet.ownerNode.tagName === 'STYLE')
          .flatMap(sheet => [...sheet.cssRules].map(rule => rule.cssText)),
      ...[...document.querySelectorAll('[style]')].map(e => e.style.cssText),
      ...[...document.querySelectorAll('meta[http-equiv]')]
          .filter(m => /refresh/i.test(m.getAttribute('http-equiv'))).map(m => m.outerHTML)]
      .filter(text => /url\\(|image-set|image\\(|src\\(|@import|http-equiv/i.test(text)),
  elsewhere: [...document.querySelectorAll('[src],[srcset],[href],[poster],[background],[action]')]
      .flatMap(e => ['src', 'srcset', 'href', 'poster', 'background', 'action']
          .map(a => e.getAttribute(a)).filter(Boolean))
      .flatMap(v => v.split(',').map(x => x.trim().split(/\\s+/)[0]))
      .filter(v => { try { const u = new URL(v, location.href);
                           return u.origin !== location.origin && u.protocol !== 'data:'; }
                     catch (err) { return false; } }),
  forms: [...document.querySelectorAll('form')]
      .filter(f => (f.getAttribute('method') || 'get').toLowerCase() === 'post')
      .filter(f => !(f.querySelector('input[name=csrf_token]') || {}).value)
      .map(f => f.getAttribute('action')),
  title: document.title,
})"""


class _Browser:
    """Runs ``fn(browser)`` in a fresh thread with its own Chromium: Playwright's sync API
    refuses a thread where an asyncio loop runs (another test in this worker may have
    left one), and its objects must stay in the thread that made them."""

    def __call__(self, fn):  # noqa: ANN001, ANN204 - any callable taking a Browser
        from concurrent.futures import ThreadPoolExecutor

        def work():  # noqa: ANN202
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                b = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS,
                                      headless=True)
                try:
                    return fn(b)
                finally:
                    b.close()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(work).result()


@pytest.fixture(scope="module")
def browser() -> _Browser:
    return _Browser()


@pytest.fixture(scope="module")
def ads(hostile: Hostile) -> list:
    from indexer.store import open_store

    store = open_store(str(hostile.store))
    try:
        return list(store.iter_ads())
    finally:
        store.close()


def _check_headers(url: str, headers: dict[str, str]) -> None:
    csp = headers.get("content-security-policy", "")
    rules = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    script = rules.get("script-src", rules.get("default-src"))
    assert script in (["'self'"], ["'none'"]), (url, csp)  # no inline script, no eval
    assert rules.get("frame-ancestors") in (["'none'"], ["'self'"]), (url, csp)
    assert headers.get("x-content-type-options") == "nosniff", url
    assert headers.get("referrer-policy") == "no-referrer", url


def _sign_in(page, base: str) -> None:  # noqa: ANN001
    """Password, then the notice accepted; fails unless the app let ``ada`` in (a page
    that silently stayed on the login would make the checks after it pass vacuously)."""
    page.goto(f"{base}/login")
    page.fill("input[name=name]", "ada")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.check("input[name=accept]")
    page.click("button[type=submit]")
    assert "/notice" not in page.url and "/login" not in page.url, page.url


def test_no_payload_runs_and_nothing_leaves_the_app(browser, hostile: Hostile, ads) -> None:
    browser(lambda b: _no_payload_runs(b, hostile, ads))


def _no_payload_runs(browser, hostile: Hostile, ads) -> None:  # noqa: ANN001
    hostile_ads = [a for a in ads if any(m in (v.fields.title + v.fields.text)
                                         for v in a.versions for m in MARKERS)]
    assert len(hostile_ads) >= 5, "the crawl brought the hostile ads into the store"
    page = browser.new_page()
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    _sign_in(page, hostile.url)

    paths = ["/search", "/search?q=script", "/search?q=HYPERLINK",
             "/search?q=" + quote("<script>alert(9)</script>"), "/search?q=klik",
             "/id/phone/" + quote("+31612345678"), "/phone/" + quote("+31612345678"),
             "/dashboard", "/sources"]
    handmade = next(a for a in ads if a.source_id == "fixture-site" and a.site_ad_id == "1")
    for ad in [handmade, *[a for a in hostile_ads if a is not handmade][:11]]:
        paths.append(f"/ad/{ad.id}")
        cap = ad.versions[-1].captures[-1]
        paths += [f"/ad/{ad.id}/capture/{cap.id}", f"/ad/{ad.id}/capture/{cap.id}/page"]
    handmade_page = paths[paths.index(f"/ad/{handmade.id}") + 2]
    visited = 0
    for path in paths:
        resp = page.goto(hostile.url + path)
        assert resp is not None
        _check_headers(path, resp.headers)
        if resp.status == 404:
            continue
        assert resp.status == 200, (path, resp.status)
        visited += 1
        page.wait_for_load_state("load")
        state = page.evaluate(INERT_JS)
        assert state["pwned"] is None, (path, state)
        assert state["title"] != "PWNED-BY-AD", path  # what the title payload would set
        assert state["inlineScripts"] == 0, path
        assert state["handlers"] == [], (path, state["handlers"])
        assert state["jsLinks"] == [], (path, state["jsLinks"])
        assert state["foreign"] == [], (path, state["foreign"])
        assert state["loaders"] == [], (path, state["loaders"])
        assert state["elsewhere"] == [], (path, state["elsewhere"])  # even if CSP blocks it
        assert state["forms"] == [], (path, state["forms"])
        if path == handmade_page:  # the page aimed at the rewrite was read, and kept
            assert "after the image" in page.content(), path
            handmade_page = ""
    assert visited >= 20 and handmade_page == ""
    assert dialogs == []
    outside = [u for u in requests if not u.startswith(hostile.url)]
    assert outside == [], outside
    assert not any(EVIL in u for u in requests)
    page.close()


def test_csv_export_neutralises_formulas(browser, hostile: Hostile) -> None:
    browser(lambda b: _csv_export(b, hostile))


def _csv_export(browser, hostile: Hostile) -> None:  # noqa: ANN001
    ctx = browser.new_context()
    page = ctx.new_page()
    _sign_in(page, hostile.url)
    resp = ctx.request.get(f"{hostile.url}/export.csv?q=HYPERLINK")
    assert resp.status == 200
    _check_headers("/export.csv", resp.headers)
    rows = list(csv.reader(io.StringIO(resp.text())))
    cells = [c for row in rows[1:] for c in row]
    assert any("HYPERLINK" in c for c in cells), "the formula ad is in the export"
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    ctx.close()


def test_svg_image_is_never_rendered_inline(browser, hostile: Hostile, ads) -> None:
    browser(lambda b: _svg_inert(b, hostile, ads))


def _svg_inert(browser, hostile: Hostile, ads) -> None:  # noqa: ANN001
    import hashlib

    from hostile_world import SVG

    sha = hashlib.sha256(SVG).hexdigest()
    assert any(i.sha256 == sha for a in ads for v in a.versions for i in v.fields.images), \
        "the SVG was archived as evidence"
    ctx = browser.new_context()
    page = ctx.new_page()
    _sign_in(page, hostile.url)
    resp = ctx.request.get(f"{hostile.url}/image/{sha}")
    served_inline_svg = (resp.status == 200 and "svg" in resp.headers.get("content-type", "")
                         and "attachment" not in resp.headers.get("content-disposition", ""))
    assert not served_inline_svg, resp.headers
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{hostile.url}/image/{sha}")
    assert page.evaluate("() => window.__pwned === undefined")
    assert dialogs == []
    ctx.close()
