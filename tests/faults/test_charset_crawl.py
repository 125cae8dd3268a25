"""Faults: a wrong or missing charset is counted per source, never stops the crawl, and the
text stored is the text the site wrote; the archive keeps the bytes as the site sent them.

One real crawl (child process, real SQLite store) of a site whose ads are
(a) declared utf-8 in the header but sent in cp1252, (b) cp1252 with no charset anywhere,
(c) utf-8 with no charset anywhere (not a fault), (d1) a meta that contradicts a wrong
header, (d2) a meta that contradicts a header which fits the bytes only as mojibake.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fixture_site import SOURCE_YAML, FixtureSite

from adtrace.cli import main
from crawler.register import parse_source
from crawler.run import crawl
from indexer.archive import archive_verify, read_capture
from indexer.model import ad_id_for
from indexer.store import open_store

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TEXT = "Très belle, première fois à Liège"
AD = ('<html><head>{meta}</head><body><h1 class="title">Zoë {n}</h1>'
      '<div class="description">{text}</div></body></html>')
META_1252 = '<meta charset="windows-1252">'
META_UTF8 = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
# path → (Content-Type, meta, encoding of the bytes), and the fault each must be counted as
ADS = {
    "41": ("text/html; charset=utf-8", "", "cp1252"),  # (a)
    "42": ("text/html", "", "cp1252"),  # (b)
    "43": ("text/html", "", "utf-8"),  # (c)
    "44": ("text/html; charset=utf-8", META_1252, "cp1252"),  # (d1)
    "45": ("text/html; charset=iso-8859-1", META_UTF8, "utf-8"),  # (d2)
}
FAULTS = {
    "41": "charset: declared utf-8 (HTTP header), body is not utf-8; read as cp1252",
    "42": "charset: none declared; read as cp1252",
    "44": "charset: declared utf-8 (HTTP header), body is not utf-8; read as cp1252, "
          "as its meta declares",
    "45": "charset: declared iso-8859-1 (HTTP header), body is utf-8; read as utf-8",
}


def _body(n: str) -> bytes:
    _, meta, encoding = ADS[n]
    return AD.format(meta=meta, n=n, text=TEXT).encode(encoding)


@pytest.fixture
def charset_site(site: FixtureSite) -> FixtureSite:
    """The fixture site with one listing that links only the ads above."""
    links = "".join(f'<li><a class="ad-link" href="/ad/{n}">x</a>' for n in ADS)
    site.html("/city/amsterdam/", f'<html><body><ul class="ads">{links}</ul></body></html>'
              .encode())
    for n, (content_type, _, _) in ADS.items():
        site.pages[f"/ad/{n}"] = (200, content_type, _body(n))
    return site


def test_wrong_or_missing_charsets_are_read_right_and_counted_per_source(
        charset_site: FixtureSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = parse_source(yaml.safe_load(SOURCE_YAML.format(base=charset_site.url)), "f.yaml")
    store_path, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"
    stats = crawl([source], store_path, archive, clock=T, progress=False, timeout=120,
                  settings={"DOWNLOAD_TIMEOUT": 10, "RETRY_TIMES": 0})
    got = stats.sources[source.id]
    assert got.finish_reason == "finished"
    store = open_store(store_path)
    try:
        run = store.crawl_runs(source.id)[0]
        for n in ADS:
            ad = store.get_ad(ad_id_for(source.id, n))
            assert ad is not None, n
            fields = ad.versions[-1].fields
            assert (fields.title, fields.text) == (f"Zoë {n}", TEXT), n
            # the archive holds the bytes as sent, not the text as read
            capture = ad.versions[-1].captures[-1]
            assert read_capture(archive, capture).payload == _body(n), n
    finally:
        store.close()
    reasons = {e.url.rsplit("/", 1)[-1]: e.reason for e in run.error_samples}
    assert reasons == FAULTS  # (c), UTF-8 with no charset, is no fault
    assert run.errors == got.errors == len(FAULTS)
    # counted as charset faults in the run record and the crawl's own figures alike
    assert run.error_kinds == (("charset", len(FAULTS)),)
    assert got.error_kinds == {"charset": len(FAULTS)}
    assert archive_verify(archive).ok

    empty = tmp_path / "no-sources"
    empty.mkdir()
    capsys.readouterr()
    assert main(["crawl", "status", "--store", store_path, "--dir", str(empty)]) == 0
    out = capsys.readouterr().out
    assert "errors=4 (charset 4)" in out and "body is not utf-8; read as cp1252" in out, out
