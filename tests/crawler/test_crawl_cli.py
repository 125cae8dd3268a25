"""``adtrace crawl`` end to end: fixture site → child process → SQLite store + archive."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fixture_site import SOURCE_YAML, FixtureSite, page

from adtrace.cli import main
from indexer.archive import archive_verify
from indexer.model import ad_id_for
from indexer.store import open_store


def test_crawl_twice_then_removal(site: FixtureSite, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "fixture.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
    store, archive = str(tmp_path / "s.sqlite3"), str(tmp_path / "archive")
    args = ["crawl", "--dir", str(sources), "--store", store, "--archive", archive, "--quiet"]

    assert main(args) == 0
    line, err = capsys.readouterr()
    assert line.strip().startswith("fixture-site: pages=6 ads_seen=3 new_ads=3 new_versions=0 "
                                   "unchanged=0 removed=0 errors=1 (http 1) "), line
    assert "signals refreshed" not in err, err  # --quiet

    # at once again: the known ads' revisit interval (24 h) has not passed → not refetched
    assert main(args) == 0
    line = capsys.readouterr().out.strip()
    assert ("ads_seen=0 new_ads=0 new_versions=0 unchanged=0 removed=0 errors=1 (http 1) "
            "not_due=3") in line, line
    assert site.requests.count("/ad/1") == 1

    site.html("/ad/1", page("ad1.html").replace(b"discreet", b"very discreet"))
    # a listing page with no ads, and no "no ads here" notice: a block page, or a new
    # layout, is not taken for a site that dropped its ads (counted; listings incomplete)
    site.html("/city/amsterdam/?page=2", b"<html><body>please prove you are human</body></html>")
    del site.pages["/ad/3"]  # gone: known to the store, no longer listed → revisited, 404
    assert main([*args, "--revisit-all"]) == 0
    line = capsys.readouterr().out.strip()
    assert "ads_seen=2 new_ads=0 new_versions=1 unchanged=1 removed=1 errors=1 (page 1)" in line, \
        line

    db = open_store(store)
    try:
        one = db.get_ad(ad_id_for("fixture-site", "1"))
        three = db.get_ad(ad_id_for("fixture-site", "3"))
        assert one is not None and len(one.versions) == 2
        assert "very discreet" in one.versions[-1].fields.text
        assert three is not None and three.removed_reason == "http 404"
        run = db.crawl_runs("fixture-site", limit=1)[0]
        assert not run.listings_complete and run.missing == ()
        assert any(e.url.endswith("?page=2") and "listing shows no ads" in e.reason
                   for e in run.error_samples), run.error_samples
    finally:
        db.close()
    assert archive_verify(archive).ok


def test_unknown_source_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "f.yaml").write_text(SOURCE_YAML.format(base="http://127.0.0.1:9/"),
                                    encoding="utf-8")
    assert main(["crawl", "--dir", str(sources), "--source", "nope", "--quiet"]) == 2
    assert "--source nope: no such source" in capsys.readouterr().err


def test_a_site_that_cannot_be_reached_fails_the_crawl(site: FixtureSite, tmp_path: Path,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    """A source whose every request failed read nothing: the crawl says so on stderr and
    exits 1 (cron and scripts see it), while the other source is crawled as usual. The
    reason names the host, or the HTTP proxy when that is what is down, and no TLS
    context (aiohttp names one even for http://); the crawl's log (not --quiet) has no
    traceback for it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "fixture.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
    (sources / "down.yaml").write_text(
        SOURCE_YAML.format(base=f"http://127.0.0.1:{port}").replace(
            "id: fixture-site", "id: down-site"), encoding="utf-8")
    (sources / "proxied.yaml").write_text(
        SOURCE_YAML.format(base=site.url).replace("id: fixture-site", "id: proxied-site")
        + f"proxy: http://127.0.0.1:{port}\n", encoding="utf-8")
    (sources / "unnamed.yaml").write_text(  # a proxy whose name does not resolve (RFC 6761)
        SOURCE_YAML.format(base=site.url).replace("id: fixture-site", "id: unnamed-proxy")
        + "proxy: http://proxy.invalid:3128\n", encoding="utf-8")
    store = str(tmp_path / "s.sqlite3")
    args = ["crawl", "--dir", str(sources), "--store", store,
            "--archive", str(tmp_path / "archive")]
    assert main(args) == 1
    out, err = capfd.readouterr()  # the crawl processes' log too
    assert "fixture-site: pages=6 ads_seen=3 " in out, out
    assert "Connect call failed" in err and "Traceback" not in err, err
    assert "down-site: no ad seen, listed or removed this run: errors=1 (connection 1)" in err, err
    assert "proxied-site: no ad seen, listed or removed this run: errors=1 (connection 1)" in err
    assert "fixture-site: nothing" not in err, err
    db = open_store(store)
    try:
        down, proxied, unnamed = (db.crawl_runs(sid, limit=1)[0].error_samples[0].reason
                                  for sid in ("down-site", "proxied-site", "unnamed-proxy"))
    finally:
        db.close()
    assert down.startswith(f"DownloadConnectionRefusedError: Cannot connect to host "
                           f"127.0.0.1:{port} ["), down
    assert proxied.startswith(f"DownloadConnectionRefusedError: HTTP proxy could not be "
                              f"reached: Cannot connect to host 127.0.0.1:{port} ["), proxied
    assert unnamed.startswith("CannotResolveHostError: HTTP proxy could not be reached: "
                              "Cannot connect to host proxy.invalid:3128 ["), unnamed


def test_what_robots_txt_forbids_is_counted_and_a_listing_page_is_an_error(
        site: FixtureSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An ad page robots.txt forbids is skipped and counted; a listing page it forbids
    leaves the listings incomplete, an error of kind policy that says why."""
    site.pages["/robots.txt"] = (200, "text/plain", b"User-agent: *\nDisallow: /private/\n"
                                 b"Disallow: /ad/1\nDisallow: /city/amsterdam/?page=2\n")
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "fixture.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
    store = str(tmp_path / "s.sqlite3")
    args = ["crawl", "--dir", str(sources), "--store", store,
            "--archive", str(tmp_path / "archive"), "--quiet"]
    assert main(args) == 0
    line = capsys.readouterr().out.strip()
    # /ad/1 is skipped; /private/ad/99 is on page 2, which was not read
    assert " errors=1 (policy 1) " in line and " skipped=1 (robots.txt) " in line, line
    db = open_store(store)
    try:
        run = db.crawl_runs("fixture-site", limit=1)[0]
    finally:
        db.close()
    assert not run.listings_complete
    assert [(e.url.split("/", 3)[-1], e.reason) for e in run.error_samples] == [
        ("city/amsterdam/?page=2", "Forbidden by robots.txt: listing page not read; "
         "listings incomplete")]
    assert "/ad/1" not in site.requests and "/city/amsterdam/?page=2" not in site.requests


def test_a_page_in_json_is_said_to_be_json_not_a_bad_selector(
        site: FixtureSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A listing or an ad page sent as JSON (an API answer, an error object) is named as
    such: parsel reads it as JSON, and the selectors' failure on it would blame them."""
    site.pages["/city/amsterdam/?page=2"] = (200, "application/json", b'{"ads": [3]}')
    site.pages["/ad/1"] = (200, "application/json; charset=utf-8", b'{"error": "busy"}')
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "fixture.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
    store = str(tmp_path / "s.sqlite3")
    assert main(["crawl", "--dir", str(sources), "--store", store,
                 "--archive", str(tmp_path / "archive"), "--quiet"]) == 0
    capsys.readouterr()
    db = open_store(store)
    try:
        run = db.crawl_runs("fixture-site", limit=1)[0]
    finally:
        db.close()
    reasons = {e.url.split("/", 3)[-1]: e.reason for e in run.error_samples}
    assert reasons["city/amsterdam/?page=2"] == \
        "listing is JSON, not an HTML page (application/json)"
    assert reasons["ad/1"] == "ad page is JSON, not an HTML page (application/json; charset=utf-8)"
    assert not run.listings_complete
