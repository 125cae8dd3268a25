"""The ad page: versions, comparison, evidence, linked ads, and the archived page shown inert."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest
from webui_world import PHONE, png_bytes

from indexer.archive import WarcWriter, store_image
from indexer.archive.writer import Fetched
from indexer.model import AdFields, Enrichment, Observation, Phone, ad_id_for
from indexer.store import open_store
from webui.diff import diff_versions, image_diff, word_diff

HOSTILE_PAGE = """<html><head><meta http-equiv="refresh" content="0;url=http://ad.test/x">
<base href="http://ad.test/"><script>alert('page')</script>
<link rel="stylesheet" href="http://ad.test/s.css">
<style>body { background: url(http://ad.test/bg.png) } @import "http://ad.test/i.css";</style></head>
<body onload="alert(1)"><h1>Mira in Breda</h1><a href="http://ad.test/other">other ads</a>
<img src="/img/mira.png"><img data-src="http://ad.test/img/lazy.png" src="data:image/gif;base64,R0lGOD">
<img src="http://tracker.test/pixel.gif"><iframe src="http://ad.test/frame"></iframe>
<div style="background-image:url('http://ad.test/b.png')">bel 06 1234 5678 — café</div></body></html>"""


@pytest.fixture(scope="module")
def archived_ad(world) -> str:  # type: ignore[no-untyped-def]
    """An ad whose page really sits in a WARC, with one archived image."""
    url = "http://ad.test/ad/mira"
    at = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    photo = png_bytes()
    with WarcWriter(world.archive_dir) as writer:
        cap = writer.write(Fetched(url, 200, [("Content-Type", "text/html; charset=utf-8")],
                                   HOSTILE_PAGE.encode(), at))
    image = store_image(world.archive_dir, photo, "http://ad.test/img/mira.png", "image/png")
    store = open_store(str(world.store_path))
    try:
        fields = AdFields("Mira in Breda", "bel 06 1234 5678", {}, (image,))
        store.write(Observation("demo-velvet", "mira", url, cap, fields),
                    Enrichment(phones=(Phone("+31612345678", "06 1234 5678", "NL"),)))
    finally:
        store.close()
    return ad_id_for("demo-velvet", "mira")


def test_word_diff_gives_both_texts_back():
    pieces = word_diff("Sweet Anna, new in town, call", "Sweet Anna, only a few days, call")
    assert "".join(p.text for p in pieces if p.op != "added") == "Sweet Anna, new in town, call"
    assert "".join(p.text for p in pieces if p.op != "removed") == "Sweet Anna, only a few days, call"
    assert [p.op for p in pieces] == ["same", "removed", "added", "same"]
    assert pieces[1].text == "new in town, "


def test_field_and_image_diff():
    from indexer.model import ImageRef

    a, b, c = ImageRef("a" * 64), ImageRef("b" * 64), ImageRef("c" * 64)
    d = diff_versions(AdFields("T", "x", {"city": "Utrecht", "age": "22"}, (a, b)),
                      AdFields("T", "x", {"city": "Breda", "price": "100"}, (b, c)))
    assert d.changed == ["age", "city", "price", "images"]
    assert [(f.name, f.old, f.new) for f in d.fields if f.changed][1] == ("city", "Utrecht", "Breda")
    imgs = image_diff((a, b), (b, c, c))
    assert imgs.added == (c,) and imgs.removed == (a,) and imgs.kept == (b,)


def test_ad_page_shows_versions_evidence_links_and_is_audited(client, world, audit_rows):
    page = client.get(f"/ad/{world.anna_id}").get_data(as_text=True)
    assert "Current version (2)" in page and "Version 1" in page
    assert "<mark>only a few days</mark>" in page  # indicator evidence marked in the text
    assert "commonly_cited" in page and "less often linked to trafficking" in page
    assert "Same phone number" in page and f"/ad/{world.lisa_id}" in page  # linked by phone
    assert f"/ad/{world.anna_id}/compare" in page
    assert re.search(rf"/ad/{world.anna_id}/capture/[0-9a-f]{{32}}", page)
    assert rows_for(audit_rows, "view_ad", world.anna_id)


def rows_for(audit_rows, action: str, target: str) -> list:  # type: ignore[no-untyped-def]
    return [e for e in audit_rows(action) if e.target == target]


def test_hostile_text_is_escaped_on_the_ad_page(client, world):
    page = client.get(f"/ad/{world.lisa_id}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_compare_two_versions_word_by_word(client, world, audit_rows):
    resp = client.get(f"/ad/{world.anna_id}/compare?a=1&b=2")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<del>new in town, </del>" in page and "<ins>only a few days, </ins>" in page
    assert "Changed: text" in page
    assert any(e.details.get("compare") == [1, 2] for e in rows_for(audit_rows, "view_ad", world.anna_id))
    assert client.get(f"/ad/{world.anna_id}/compare").status_code == 200  # defaults: last two
    assert client.get(f"/ad/{world.anna_id}/compare?a=1&b=9").status_code == 404
    assert client.get(f"/ad/{world.anna_id}/compare?a=x").status_code == 400


def test_ads_outside_the_users_themes_do_not_exist(analyst, world):
    assert analyst.get(f"/ad/{world.trend_id}").status_code == 404
    assert analyst.get(f"/ad/{world.trend_id}/compare").status_code == 404


def test_archived_page_is_framed_sandboxed_and_inert(client, world, archived_ad):
    page = client.get(f"/ad/{archived_ad}").get_data(as_text=True)
    capture_url = re.search(rf'href="(/ad/{archived_ad}/capture/[0-9a-f]{{32}})"', page).group(1)
    outer = client.get(capture_url).get_data(as_text=True)
    frame = re.search(r"<iframe[^>]*>", outer, re.S).group(0)
    assert re.search(r"\ssandbox[\s>]", frame) and "allow-" not in frame
    resp = client.get(capture_url + "/page")
    assert resp.status_code == 200
    csp = resp.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'")
    assert "script-src" not in csp and "sandbox" in csp
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    html = resp.get_data(as_text=True)
    assert "Mira in Breda" in html and "café" in html
    for gone in ("<script", "alert(", "onload", "http-equiv", "<base", "<link", "<iframe",
                 "href=", "ad.test", "tracker.test", "@import"):
        assert gone not in html, gone
    sha = hashlib.sha256(png_bytes()).hexdigest()
    # the archived photo inlined, the lazy image's own inline placeholder kept (it loads
    # nothing), the tracker pixel with no archived copy dropped
    assert html.count("<img") == 2
    assert html.count("data:image/png;base64,") == 1 and sha not in html


def test_archived_page_opened_on_its_own_is_audited(client, world, archived_ad, audit_rows):
    """In its frame the archived page is covered by the capture page's row; opened on its
    own, or claiming to be framed (a forged header) without that page, it gets a row of
    its own."""
    page = client.get(f"/ad/{archived_ad}").get_data(as_text=True)
    capture_url = re.search(rf'href="(/ad/{archived_ad}/capture/[0-9a-f]{{32}})"', page).group(1)
    before = len(rows_for(audit_rows, "view_archived", archived_ad))
    forged = client.get(capture_url + "/page", headers={"Sec-Fetch-Dest": "iframe"})
    assert forged.status_code == 200
    before += 1
    assert len(rows_for(audit_rows, "view_archived", archived_ad)) == before
    assert client.get(capture_url).status_code == 200  # the capture page frames it
    framed = client.get(capture_url + "/page", headers={"Sec-Fetch-Dest": "iframe"})
    assert framed.status_code == 200
    assert len(rows_for(audit_rows, "view_archived", archived_ad)) == before
    assert client.get(capture_url + "/page").status_code == 200
    rows = rows_for(audit_rows, "view_archived", archived_ad)
    assert len(rows) == before + 1 and rows[0].details["capture"] == capture_url.rsplit("/", 1)[1]


def test_archived_page_of_a_missing_warc_says_so(client, world):
    page = client.get(f"/ad/{world.anna_id}").get_data(as_text=True)
    capture_url = re.search(rf'href="(/ad/{world.anna_id}/capture/[0-9a-f]{{32}})"', page).group(1)
    resp = client.get(capture_url + "/page")
    assert resp.status_code == 404 and "cannot be read" in resp.get_data(as_text=True)
    assert client.get(f"/ad/{world.anna_id}/capture/{'0' * 32}").status_code == 404


def test_linked_by_the_same_photo(client, world, archived_ad):
    page = client.get(f"/ad/{world.anna_id}").get_data(as_text=True)
    assert "Same photo" in page and f"/ad/{archived_ad}" in page
    assert PHONE in page
