"""The number page (and e-mail / handle pages), the network view and correcting a wrong
extraction, through the Flask client over a real SQLite store. Every view and every
correction must reach the audit log; hostile ad text must stay text."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from webui_world import PHONE, T0, VELVET, capture, token_from

from indexer.model import AdFields, Attribute, Enrichment, Observation, Phone, Place, ad_id_for
from indexer.store import open_store

SECOND = "+31687654321"
CLUSTER = "+31655555555"
ANTWERPEN = Place("Antwerpen", "Antwerpen", "Antwerpen", "BE", 51.22, 4.4)


@pytest.fixture(scope="module")
def extra(world) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Mia moved the number to Antwerp beside a second number; a dense cluster of ads."""
    store = open_store(str(world.store_path))
    try:
        url = "http://127.0.0.1:8700/velvet/ad/201"
        f = AdFields("Mia in Antwerpen", "Mia, bel 0612345678 of 0687654321")
        enr = Enrichment(phones=(Phone(PHONE, "0612345678", "NL"), Phone(SECOND, "0687654321", "NL")),
                         places=(ANTWERPEN,), attributes=(Attribute("name", "Mia"),), language="nl")
        store.write(Observation(VELVET.id, "201", url, capture(url, T0 + timedelta(days=9),
                                                               f.document(), 900), f), enr)
        for i in range(12):
            url = f"http://127.0.0.1:8700/velvet/ad/3{i:02d}"
            f = AdFields(f"Cluster ad {i}", f"call 06555555{i:02d}")
            enr = Enrichment(phones=(Phone(CLUSTER, "0655555555", "NL"),), language="nl")
            store.write(Observation(VELVET.id, f"3{i:02d}", url,
                                    capture(url, T0 + timedelta(days=i), f.document(), 1000 + i), f),
                        enr)
    finally:
        store.close()
    return {"mia": ad_id_for(VELVET.id, "201")}


def _table(html: str) -> str:
    """The 'every ad that carried it' table only."""
    return html.split('<table class="hits">', 1)[1].split("</table>", 1)[0]


def test_number_page_shows_history_movement_names_and_neighbours(client, world, extra, audit_rows) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/phone/{PHONE}").get_data(as_text=True)
    table = _table(html)
    for ad in (world.anna_id, world.lisa_id, extra["mia"]):
        assert f"/ad/{ad}" in table
    assert "Velvet Nights (3)" in html and "Mia (1)" in html
    assert html.count('<g class="stop">') == 3  # Utrecht → Amsterdam → Antwerpen
    stops = re.findall(r'<g class="stop"><title>(\d)\. (\w+)', html)
    assert stops == [("1", "Utrecht"), ("2", "Amsterdam"), ("3", "Antwerpen")]
    assert '<polyline class="route"' in html and "tile" not in html
    assert f'href="/phone/{SECOND}"' in html.split('id="together"')[1].split("</section>")[0]
    assert re.search(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+"/>', html)
    assert 'class="network"' in html and f'/network/phone/{PHONE}' in html
    event = audit_rows("view_identifier", user="ada")[0]
    assert event.target == f"phone:{PHONE}" and event.details["ads"] == 3


def test_hostile_ad_text_stays_text_in_table_and_network(client, world, extra) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/phone/{PHONE}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Lisa" in _table(html)
    net = html.split('id="network"')[1]
    assert "&lt;script&gt;" in net and "<script>" not in net


def test_wider_network_folds_a_dense_cluster_until_opened(client, extra, audit_rows) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/network/phone/{CLUSTER}").get_data(as_text=True)
    assert 'class="node cluster"' in html and ">12<" in html
    link = re.search(r'<a href="([^"]+expand=[^"]+)"><g class="node cluster">', html)
    assert link, "the cluster links to its expanded view"
    opened = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert 'class="node cluster"' not in opened and opened.count('<g class="node ad">') == 12
    assert audit_rows("view_identifier", user="ada")[0].details["view"] == "network"
    wide = client.get(f"/network/phone/{SECOND}").get_data(as_text=True)
    assert f"/ad/{extra['mia']}" in wide and "/phone/+31612345678" in wide
    assert client.get("/network/passport/1").status_code == 404


def test_marking_an_extraction_wrong_unlinks_it_everywhere_and_is_audited(client, world, extra, audit_rows) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/phone/{PHONE}").get_data(as_text=True)
    resp = client.post("/correction", data={
        "csrf_token": token_from(page), "ad_id": world.lisa_id, "kind": "phone", "value": PHONE,
        "reason": "number belongs to another ad on the page", "next": f"/phone/{PHONE}"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/phone/{PHONE}"
    html = client.get(f"/phone/{PHONE}").get_data(as_text=True)
    assert f"/ad/{world.lisa_id}" not in _table(html)
    assert "number belongs to another ad on the page" in html.split('id="corrections"')[1]
    found = client.get(f"/search?q=phone:{PHONE}").get_data(as_text=True)
    assert f"/ad/{world.anna_id}" in found and f"/ad/{world.lisa_id}" not in found
    assert "06-12345678" in client.get(f"/ad/{world.lisa_id}").get_data(as_text=True)  # evidence kept
    listing = client.get("/corrections").get_data(as_text=True)
    assert f"/ad/{world.lisa_id}" in listing and "number belongs to another ad" in listing
    event = audit_rows("correction", user="ada")[0]
    assert event.target == f"phone:{PHONE}" and event.details["ad"] == world.lisa_id
    assert event.details["changed"] is True
    resp = client.post("/correction/lift", data={
        "csrf_token": token_from(listing), "ad_id": world.lisa_id, "kind": "phone",
        "value": PHONE, "reason": "checked the page again", "next": "/corrections"})
    assert resp.status_code == 302
    assert f"/ad/{world.lisa_id}" in _table(client.get(f"/phone/{PHONE}").get_data(as_text=True))
    assert audit_rows("correction_undo", user="ada")[0].details["reason"] == "checked the page again"


def test_bad_corrections_are_refused_with_a_reason(client, analyst, world) -> None:  # type: ignore[no-untyped-def]
    token = token_from(client.get(f"/phone/{PHONE}").get_data(as_text=True))
    base = {"csrf_token": token, "ad_id": world.anna_id, "kind": "phone", "value": PHONE}
    resp = client.post("/correction", data={**base, "reason": " "})
    assert resp.status_code == 400 and "reason" in resp.get_data(as_text=True)
    resp = client.post("/correction", data={**base, "value": "+31699999999", "reason": "x"})
    assert resp.status_code == 400 and "never carried" in resp.get_data(as_text=True)
    assert client.post("/correction", data={**base, "ad_id": "nope", "reason": "x"}).status_code == 404
    assert client.post("/correction", data={**base, "reason": "x", "csrf_token": ""}).status_code == 400
    token = token_from(analyst.get(f"/phone/{PHONE}").get_data(as_text=True))
    resp = analyst.post("/correction", data={"csrf_token": token, "ad_id": world.trend_id,
                                             "kind": "phone", "value": "+32470123456", "reason": "x"})
    assert resp.status_code == 404  # outside the analyst's themes the ad does not exist
    assert "Anna" in _table(client.get(f"/phone/{PHONE}").get_data(as_text=True))


def test_email_page_and_unknown_kinds(client, world) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/id/email/lisa@example.com").get_data(as_text=True)
    assert f"/ad/{world.lisa_id}" in _table(html) and "Places over time" in html
    assert client.get("/id/passport/123").status_code == 404
