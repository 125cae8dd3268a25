"""Ad, identifier and image pages; the error pages; the audit trail behind them."""

from __future__ import annotations

import re
import sqlite3

import pytest
from webui_world import build_world, login

from webui import audit, db
from webui.app import create_app


def test_ad_page_shows_every_version_and_its_captures(client, world) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/ad/{world.anna_id}").get_data(as_text=True)
    assert "Current version" in html and "Version 1" in html and "Version 2" in html
    assert "new in town" in html and "only a few days" in html  # both versions' text
    assert "Changed since the previous version: text" in html
    # Evidence: capture time, SHA-256 and WARC location, three captures in all.
    assert html.count("warc/demo-velvet-0001.warc.gz @") >= 3
    assert "2026-03-02 10:00:00 UTC" in html and "2026-03-05 10:00:00 UTC" in html
    assert re.search(r"[0-9a-f]{64}", html)
    # Indicator with its evidence text and explanation.
    assert "Movement language" in html and "<mark>only a few days</mark>" in html
    assert "less often linked to trafficking" in html
    assert 'href="/phone/+31612345678"' in html
    assert "Utrecht, NL" in html


def test_ad_page_never_links_to_the_ad_site(client, world) -> None:  # type: ignore[no-untyped-def]
    for ad_id in (world.anna_id, world.lisa_id):
        html = client.get(f"/ad/{ad_id}").get_data(as_text=True)
        assert "http://127.0.0.1:8700/velvet/ad/" in html  # shown as text
        links = re.findall(r'(?:href|src)="([^"]+)"', html)
        assert all(link.startswith("/") for link in links), links


def test_ad_page_escapes_hostile_content_and_links_identifiers(client, world) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/ad/{world.lisa_id}").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="/id/email/lisa@example.com"' in html
    assert "http://evil.example/track" in html and 'href="http://evil.example' not in html
    assert "removed 2026-03-07 10:00 UTC" in html


def test_ad_view_is_audited(client, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    client.get(f"/ad/{world.anna_id}")
    event = audit_rows("view_ad", user="ada")[0]
    assert event.target == world.anna_id and event.details["versions"] == 2


def test_unknown_ad_is_404(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/ad/0000000000000000")
    assert resp.status_code == 404 and "Not found" in resp.get_data(as_text=True)


def test_ad_outside_the_users_themes_does_not_exist_for_them(analyst, client, world) -> None:  # type: ignore[no-untyped-def]
    assert analyst.get(f"/ad/{world.trend_id}").status_code == 404
    assert client.get(f"/ad/{world.trend_id}").status_code == 200  # admin
    html = analyst.get("/phone/+32470123456").get_data(as_text=True)
    assert "No ads carried it." in html


def test_phone_page_lists_every_ad_with_the_number(client, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/phone/+31612345678").get_data(as_text=True)
    assert f"/ad/{world.anna_id}" in html and f"/ad/{world.lisa_id}" in html
    assert "Amsterdam, Utrecht" in html  # places across its ads
    assert "Velvet Nights" in html
    assert "removed 2026-03-07" in html and "live" in html
    event = audit_rows("view_identifier", user="ada")[0]
    assert event.target == "phone:+31612345678" and event.details["ads"] == 2


@pytest.mark.parametrize("typed", ["06-12345678", "0031612345678", "06 1234 5678"])
def test_phone_typed_in_any_format_redirects_to_e164(client, typed) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"/phone/{typed}")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/phone/+31612345678"


def test_not_a_phone_number_is_404_with_reason(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/phone/hello")
    assert resp.status_code == 404 and "not a phone number" in resp.get_data(as_text=True)


def test_email_identifier_page(client, world) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/id/email/lisa@example.com").get_data(as_text=True)
    assert f"/ad/{world.lisa_id}" in html and f"/ad/{world.anna_id}" not in html
    assert client.get("/id/passport/123").status_code == 404


def test_images_come_only_from_the_archive(client, world) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"/image/{world.image_sha}")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.data.startswith(b"\x89PNG")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/image/" + "b" * 64).status_code == 404  # well-formed, not archived
    assert client.get("/image/" + world.image_sha.upper()).status_code == 404
    assert client.get("/image/..%2F..%2Fsecret_key").status_code == 404
    assert client.get("/image/abc").status_code == 404


def test_an_image_is_behind_the_wall_of_the_ads_that_show_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The archived photo shows only in a 'trafficking' ad: a user granted only 'research'
    gets a 404, as for the ad itself (a 200 would also tell that the photo is archived)."""
    world = build_world(tmp_path, {"rita": ("research",), "ann": ("trafficking",)})
    app = create_app({"STORE_URL": str(world.store_path), "DATA_DIR": str(world.data_dir),
                      "ARCHIVE_DIR": str(world.archive_dir), "SECRET_KEY": "t"})
    rita, ann = login(app.test_client(), "rita"), login(app.test_client(), "ann")
    assert rita.get(f"/ad/{world.anna_id}").status_code == 404
    assert rita.get(f"/image/{world.image_sha}").status_code == 404
    assert ann.get(f"/image/{world.image_sha}").status_code == 200
    # the miss is a look-up too, audited whatever the request says it is
    assert rita.get(f"/image/{world.image_sha}",
                    headers={"Sec-Fetch-Dest": "image"}).status_code == 404
    conn = db.connect(world.data_dir)
    try:
        probes = audit.events(conn, user="rita", action="view_archived")
    finally:
        conn.close()
    assert [(e.target, e.details["found"], e.details["ads"]) for e in probes] == [
        (world.image_sha, False, [])] * 2


def test_an_image_opened_on_its_own_is_audited(client, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    """Loaded into one of our pages that showed it, an image is covered by that page's
    audit row; asked for on its own (a tab, a script), it is a look-up and gets a row of
    its own (the header alone spares nothing: test_image_audit)."""
    client.get(f"/ad/{world.anna_id}")
    before = len(audit_rows("view_archived"))
    page = client.get(f"/image/{world.image_sha}", headers={"Sec-Fetch-Dest": "image"})
    assert page.status_code == 200 and len(audit_rows("view_archived")) == before
    alone = client.get(f"/image/{world.image_sha}")
    assert alone.status_code == 200
    rows = audit_rows("view_archived")
    assert len(rows) == before + 1 and rows[0].target == world.image_sha
    assert rows[0].details["found"] is True and rows[0].details["ads"] == [world.anna_id]


def test_admin_audit_page_and_analyst_refused(client, analyst) -> None:  # type: ignore[no-untyped-def]
    client.get("/search?q=anna")
    html = client.get("/admin/audit?action=search").get_data(as_text=True)
    assert "search" in html and "anna" in html
    assert analyst.get("/admin/audit").status_code == 404


def test_audit_log_is_append_only(world) -> None:  # type: ignore[no-untyped-def]
    conn = db.connect(world.data_dir)
    try:
        assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] > 0
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit SET user = 'nobody'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM audit")
    finally:
        conn.close()


def test_store_failure_gives_a_clear_503(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"this is not a database" * 100)
    app = create_app({"STORE_URL": str(broken), "DATA_DIR": str(world.data_dir),
                      "ARCHIVE_DIR": str(world.archive_dir), "SECRET_KEY": "t"})
    client = login(app.test_client())
    resp = client.get("/search?q=anna")
    assert resp.status_code == 503
    html = resp.get_data(as_text=True)
    assert "Backend unavailable" in html and "Traceback" not in html
