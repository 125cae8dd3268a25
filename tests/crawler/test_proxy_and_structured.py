"""A source's HTTP proxy carries every request, its login kept out of the archive; JSON-LD
and microdata fields are read."""

from __future__ import annotations

import base64
import dataclasses
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from crawl_helpers import ad_ids, collect, warc_bytes
from fixture_site import FixtureSite

from crawler.source import Source

AD = b"""<html><head><script type="application/ld+json">
{"@type": "Product", "sku": "X9", "name": "Nina", "description": "Hello from JSON-LD",
 "offers": {"price": "120"}}</script></head>
<body><h1 class="title">ignored</h1><div itemscope><span itemprop="age">25</span></div></body></html>"""


class ForwardProxy:
    """A minimal HTTP forward proxy on 127.0.0.1 that records the URLs it carried and the
    logins it was sent; it refuses every tunnel (CONNECT) with a 407."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.logins: list[bytes] = []  # the Proxy-Authorization header of each request
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                proxy.seen.append(self.path)
                if self.headers.get("Proxy-Authorization"):
                    proxy.logins.append(self.headers["Proxy-Authorization"].encode())
                parts = urlsplit(self.path)
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
                resp = conn.getresponse()
                body = resp.read()
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.getheader("Content-Type", ""))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                conn.close()

            def do_CONNECT(self) -> None:  # noqa: N802 - a tunnel: refused, login noted
                proxy.seen.append(f"CONNECT {self.path}")
                proxy.logins.append(self.headers.get("Proxy-Authorization", "").encode())
                self.send_response(407)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_proxy_and_structured_fields(site: FixtureSite, source: Source, tmp_path: Path) -> None:
    site.html("/ad/1", AD)
    proxy = ForwardProxy()
    try:
        fields = {"title": "jsonld:name", "text": "jsonld:description",
                  "price": "jsonld:offers.price", "age": "microdata:age"}
        src = dataclasses.replace(source, proxy=proxy.url, selectors=dataclasses.replace(
            source.selectors, fields=fields, ad_id_from_url="", ad_id_css=""))
        result = collect(src, tmp_path)
    finally:
        proxy.stop()
    ads = {i["url"].rsplit("/", 1)[-1]: i for i in result["items"] if i["kind"] == "AdItem"}
    one = ads["1"]["fields"]
    assert one["title"] == "Nina" and one["text"] == "Hello from JSON-LD"
    assert one["attributes"] == {"price": "120", "age": "25"}
    # every request went through the proxy, robots.txt and images included
    assert f"{site.url}robots.txt" in proxy.seen and f"{site.url}ad/1" in proxy.seen
    assert len(proxy.seen) == len(site.requests)


def test_an_http_proxy_login_goes_to_the_proxy_and_never_into_the_archive(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    proxy = ForwardProxy()
    try:
        login = proxy.url.replace("http://", "http://carol:pr0xy-secret@")
        result = collect(dataclasses.replace(source, proxy=login), tmp_path)
    finally:
        proxy.stop()
    assert ad_ids(result) == {"1", "2", "3"}
    # the proxy was asked with the login (Scrapy sends it as Proxy-Authorization) ...
    token = base64.b64encode(b"carol:pr0xy-secret")
    assert proxy.logins and set(proxy.logins) == {b"Basic " + token}
    # ... and the WARC request records, the evidence, do not carry it
    archived = warc_bytes(tmp_path)
    assert b"WARC-Type: request" in archived and b"/ad/1" in archived
    assert token not in archived and b"Proxy-Authorization" not in archived


def test_a_login_with_reserved_characters_reaches_the_proxy_and_no_error_shows_it(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """A password with ``/`` and ``:`` (percent-encoded in the source file) is sent to
    the proxy as it is; a proxy that refuses a tunnel (here: CONNECT for an https site)
    fails the download with an error that names the proxy, never the password."""
    from datetime import UTC, datetime

    from crawler.run import crawl
    from indexer.store import open_store

    proxy = ForwardProxy()
    login = proxy.url.replace("http://", "http://carol:pa%2Fss%3Aw0rd@")
    store_path = str(tmp_path / "store.sqlite3")
    try:
        result = collect(dataclasses.replace(source, proxy=login), tmp_path / "plain")
        tunnelled = dataclasses.replace(source, proxy=login, base_url="https://adsite.test.invalid/")
        crawl([tunnelled], store_path, tmp_path / "archive", progress=False, timeout=120,
              clock=datetime(2026, 11, 2, 9, 0, tzinfo=UTC), settings={"RETRY_TIMES": 0})
    finally:
        proxy.stop()
    assert ad_ids(result) == {"1", "2", "3"}
    assert "CONNECT adsite.test.invalid:443" in proxy.seen  # the tunnel was asked for
    assert set(proxy.logins) == {b"Basic " + base64.b64encode(b"carol:pa/ss:w0rd")}
    store = open_store(store_path)
    try:
        samples = store.crawl_runs(source.id)[0].error_samples
    finally:
        store.close()
    assert samples and all(proxy.url.removeprefix("http://") in e.reason for e in samples)
    assert not any("pa/ss" in e.reason or "pa%2Fss" in e.reason or "w0rd" in e.reason
                   for e in samples), samples
