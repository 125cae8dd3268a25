"""A source's SOCKS5 proxy carries every request of its crawl, over http and https.

Real crawls through a real SOCKS5 proxy (socks_server) of the fixture site: with
socks5h:// the site's name is one only the proxy can resolve (as an onion address), so a
request that went around the proxy could not have been answered at all; with socks5://
and a login the crawler resolves the name and the proxy checks the credentials, which
never reach the site or the archive. A proxy that refuses, is down, cannot reach the
site or never answers costs the requests it carried, each counted with its reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from crawl_helpers import ad_ids, collect, warc_bytes
from fixture_site import FixtureSite, self_signed_cert
from socks_server import SocksServer

from crawler.run import CrawlStats, crawl
from crawler.settings import BASE
from crawler.source import Source
from indexer.archive.index import CaptureIndex
from indexer.crawl_runs import CrawlRun
from indexer.store import open_store

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HIDDEN = "adsite.onion-test.invalid"  # .invalid never resolves (RFC 2606): only the proxy knows it
DAY_ONE_ADS = {"1", "2", "3"}  # ad 4 answers 500
GOOD_PASSWORD, BAD_PASSWORD = "pw-accepted-7f3", "pw-refused-9c1"  # never in a message


@pytest.fixture
def proxy() -> Iterator[SocksServer]:
    server = SocksServer(hosts={HIDDEN: "127.0.0.1"}).start()
    yield server
    server.stop()


def _through(source: Source, proxy_url: str, base_url: str) -> Source:
    """The fixture source at ``base_url``, crawled through ``proxy_url``."""
    return dataclasses.replace(source, proxy=proxy_url, base_url=base_url)


def _hidden_base(site: FixtureSite, scheme: str = "http") -> str:
    return f"{scheme}://{HIDDEN}:{site.server.server_address[1]}/"


@pytest.fixture
def dns_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the crawl's resolver (recording_resolver) notes each name it resolved."""
    log = tmp_path / "dns.log"
    log.touch()
    monkeypatch.setenv("ADTRACE_TEST_DNS_LOG", str(log))
    return log


RECORD_DNS = {"TWISTED_DNS_RESOLVER": "tests.crawler.recording_resolver.RecordingResolver"}


def test_socks5h_carries_every_request_and_lets_the_proxy_resolve_the_name(
        site: FixtureSite, source: Source, proxy: SocksServer, tmp_path: Path,
        dns_log: Path) -> None:
    result = collect(_through(source, proxy.url("socks5h"), _hidden_base(site)),
                     tmp_path / "archive", settings=RECORD_DNS)
    assert ad_ids(result) == DAY_ONE_ADS
    assert HIDDEN not in dns_log.read_text()  # the crawler never looked the name up
    # robots.txt, listings, ads and images all came, and only through the proxy: the
    # name resolves nowhere else, and every stream named the site, never an address
    assert {"/robots.txt", "/city/amsterdam/", "/ad/1", "/img/1.png"} <= set(site.requests)
    assert proxy.streams and {(kind, host) for kind, host, _, _ in proxy.streams} == {
        ("domain", HIDDEN)}
    # the archive holds the site's URLs as requested, the image among them
    image = CaptureIndex(tmp_path / "archive").latest(f"{_hidden_base(site)}img/1.png")
    assert image is not None and image.status == 200


def test_socks5_with_a_login_resolves_here_and_keeps_the_password_out_of_the_archive(
        site: FixtureSite, source: Source, tmp_path: Path, dns_log: Path) -> None:
    proxy = SocksServer(username="alice", password="s3cret-word").start()
    base = f"http://localhost:{site.server.server_address[1]}/"
    try:
        result = collect(_through(source, proxy.url("socks5", "alice", "s3cret-word"), base),
                         tmp_path / "archive", settings=RECORD_DNS)
    finally:
        proxy.stop()
    assert ad_ids(result) == DAY_ONE_ADS
    assert "localhost" in dns_log.read_text().split()  # resolved here, as socks5:// says
    assert proxy.streams and proxy.logins_refused == 0
    assert {(kind, host, user) for kind, host, _, user in proxy.streams} == {
        ("ipv4", "127.0.0.1", "alice")}
    archived = warc_bytes(tmp_path / "archive")
    assert b"/ad/1" in archived
    assert b"s3cret-word" not in archived and b"Proxy-Authorization" not in archived


def test_socks5h_carries_https(site_tls: FixtureSite, source: Source, proxy: SocksServer,
                               tmp_path: Path) -> None:
    base = _hidden_base(site_tls, "https")
    result = collect(_through(source, proxy.url("socks5h"), base), tmp_path)
    assert ad_ids(result) == DAY_ONE_ADS
    assert {host for _, host, _, _ in proxy.streams} == {HIDDEN}
    entry = CaptureIndex(tmp_path).latest(f"{base}ad/1")
    assert entry is not None and entry.status == 200


def _failed_run(stats: CrawlStats, source_id: str, store_path: str) -> CrawlRun:
    """The run record of a crawl that finished without an ad and with errors."""
    got = stats.sources[source_id]
    assert got.finish_reason == "finished" and got.new_ads == 0 and got.errors >= 1
    store = open_store(store_path)
    try:
        return store.crawl_runs(source_id)[0]
    finally:
        store.close()


@pytest.mark.parametrize(("fault", "reason"), [
    ("wrong password", "SOCKS proxy socks5h://127.0.0.1:{port} refused the user name and "
                       "password"),
    ("no login given", "SOCKS proxy socks5h://127.0.0.1:{port} wants a user name and "
                       "password"),
    ("unknown name", "SOCKS proxy socks5h://127.0.0.1:{port} could not reach "
                     "elsewhere.invalid:{site_port}: host unreachable"),
    ("onion failure", "could not reach " + HIDDEN + ":{site_port}: onion service "
                      "descriptor can not be found"),
    ("proxy down", "SOCKS proxy socks5h://127.0.0.1:{port} could not be reached"),
    ("proxy mute", "took longer than 1.0 seconds"),
])
def test_a_proxy_fault_costs_its_requests_each_counted_with_its_reason(
        fault: str, reason: str, site: FixtureSite, source: Source, tmp_path: Path) -> None:
    proxy = SocksServer(hosts={HIDDEN: "127.0.0.1"},
                        username="alice" if fault in ("wrong password", "no login given")
                        else "", password=GOOD_PASSWORD, mute=fault == "proxy mute",
                        reply=0xF0 if fault == "onion failure" else 0)
    port = proxy.port
    if fault == "proxy down":
        proxy.server.server_close()  # the port is closed: nothing listens there
    else:
        proxy.start()
    login = ("alice", BAD_PASSWORD) if fault == "wrong password" else ("", "")
    host = "elsewhere.invalid" if fault == "unknown name" else HIDDEN
    src = _through(source, proxy.url("socks5h", *login),
                   f"http://{host}:{site.server.server_address[1]}/")
    store_path = str(tmp_path / "s.sqlite3")
    try:
        stats = crawl([src], store_path, tmp_path / "archive", clock=T, progress=False,
                      timeout=120, settings={"DOWNLOAD_TIMEOUT": 1, "RETRY_TIMES": 0})
    finally:
        if fault != "proxy down":
            proxy.stop()
    run = _failed_run(stats, src.id, store_path)
    expected = reason.format(port=port, site_port=site.server.server_address[1])
    assert run.error_samples and all(expected in e.reason for e in run.error_samples), \
        run.error_samples
    assert all(GOOD_PASSWORD not in e.reason and BAD_PASSWORD not in e.reason
               for e in run.error_samples)
    assert site.requests == []  # nothing reached the site around the proxy


def test_a_request_marked_for_socks_in_a_crawl_without_a_proxy_is_never_sent(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """The download handler fails closed: a request marked for the proxy (every one,
    here) is refused when the crawl has no SOCKS proxy, not sent straight to the site."""
    marked = {**BASE["DOWNLOADER_MIDDLEWARES"], "tests.crawler.mark_socks.MarkForSocks": 50}
    store_path = str(tmp_path / "s.sqlite3")
    stats = crawl([source], store_path, tmp_path / "archive", clock=T, progress=False,
                  timeout=120, settings={"DOWNLOADER_MIDDLEWARES": marked, "RETRY_TIMES": 0})
    run = _failed_run(stats, source.id, store_path)
    assert run.error_samples and all(
        "marked for a SOCKS proxy, but the crawl's ADTRACE_PROXY names none" in e.reason
        for e in run.error_samples), run.error_samples
    assert site.requests == []


def test_a_failed_stream_is_tried_again_and_a_refused_login_is_not(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    def attempts(fault: str, retries: int) -> int:
        proxy = SocksServer(username="alice" if fault == "login" else "",
                            password=GOOD_PASSWORD,
                            hosts={HIDDEN: "127.0.0.1"}).start()
        host = "elsewhere.invalid" if fault == "stream" else HIDDEN
        src = _through(source, proxy.url("socks5h", *(("alice", BAD_PASSWORD) if fault == "login"
                                                      else ())),
                       f"http://{host}:{site.server.server_address[1]}/")
        try:
            crawl([src], str(tmp_path / f"{fault}{retries}.sqlite3"), tmp_path / "archive",
                  clock=T, progress=False, timeout=120,
                  settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": retries})
        finally:
            proxy.stop()
        return proxy.logins_refused if fault == "login" else len(proxy.streams)

    once = attempts("stream", 0)
    assert once >= 1 and attempts("stream", 1) == 2 * once
    refused = attempts("login", 0)
    assert refused >= 1 and attempts("login", 1) == refused


# --------------------------------------------------------------------------- https site
@pytest.fixture
def site_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FixtureSite]:
    """The fixture site over TLS, with a certificate made here for its hidden name."""
    site = FixtureSite()
    site.use_tls(*self_signed_cert(tmp_path_factory.mktemp("tls"), HIDDEN))
    site.load_day_one()
    site.start()
    yield site
    site.stop()
