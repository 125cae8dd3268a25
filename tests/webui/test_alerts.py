"""Alerts: after a crawl, saved searches and watched numbers run again; only ads they
did not match before reach the inbox, and by e-mail through a real SMTP server on
127.0.0.1 when SMTP is configured."""

from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from webui_world import T0, VELVET, capture, login, token_from

from indexer.model import AdFields, Enrichment, Observation, Phone, Place, ad_id_for
from indexer.store import open_store
from webui import db, saved_db
from webui.alerts import SmtpConfig, run_all

NEW_PHONE = "+31698765432"


class Mailbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        self.arrived.set()
        return "250 OK"


@pytest.fixture()
def smtp_server():  # type: ignore[no-untyped-def]
    import socket

    box = Mailbox()
    with socket.socket() as s:  # aiosmtpd's start-up check cannot connect to port 0
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()  # returns once the server answers on the port
    try:
        yield box, port
    finally:
        controller.stop()


def add_ad(world, site_ad_id: str, title: str, city: str = "Utrecht",  # type: ignore[no-untyped-def]
           phone: str = NEW_PHONE, day: int = 10) -> str:
    """A crawl's worth of one new ad, written through the store contract."""
    url = f"http://127.0.0.1:8700/velvet/ad/{site_ad_id}"
    fields = AdFields(title, f"{title}, call {phone}", {"city": city})
    enrichment = Enrichment(phones=(Phone(phone, phone, "NL"),),
                            places=(Place(city, city, city, "NL", 52.0, 5.0),), language="en")
    store = open_store(str(world.store_path))
    try:
        store.write(Observation("demo-velvet", site_ad_id, url,
                                capture(url, T0 + timedelta(days=day), fields.document(),
                                        9000 + int(site_ad_id)), fields), enrichment)
    finally:
        store.close()
    return ad_id_for(VELVET.id, site_ad_id)


def run(world, smtp: SmtpConfig | None = None):  # type: ignore[no-untyped-def]
    store = open_store(str(world.store_path))
    try:
        return run_all(store, world.data_dir, smtp=smtp, use_settings=False)
    finally:
        store.close()


def save(client, query: dict[str, str], name: str) -> None:  # type: ignore[no-untyped-def]
    from urllib.parse import urlencode

    page = client.get("/saved/new?" + urlencode(query)).get_data(as_text=True)
    resp = client.post("/saved/new", data={**query, "name": name, "csrf_token": token_from(page)})
    assert resp.status_code == 302


def inbox_ads(world, user: str) -> list[str]:  # type: ignore[no-untyped-def]
    conn = db.connect(world.data_dir)
    try:
        return [i.ad_id for i in saved_db.inbox(conn, user)]
    finally:
        conn.close()


def test_alerts_fire_only_for_new_matches(client, world) -> None:  # type: ignore[no-untyped-def]
    save(client, {"q": "city:utrecht"}, "Utrecht")
    first = run(world)  # nothing new since the search was saved: its matches are the baseline
    assert first.new_matches == 0 and inbox_ads(world, "ada") == []

    new_id = add_ad(world, "501", "Mila new in Utrecht")
    add_ad(world, "502", "Zoe in Rotterdam", city="Rotterdam", phone="+31611111111")
    second = run(world)
    assert second.new_matches == 1 and inbox_ads(world, "ada") == [new_id]

    third = run(world)  # the same ad again is not new
    assert third.new_matches == 0 and inbox_ads(world, "ada") == [new_id]

    html = client.get("/inbox").get_data(as_text=True)
    assert "Mila new in Utrecht" in html and "Saved search: Utrecht" in html
    assert "Inbox (1)" in client.get("/saved").get_data(as_text=True)
    client.post("/inbox/read", data={"all": "1", "csrf_token": token_from(html)})
    assert "Inbox (1)" not in client.get("/saved").get_data(as_text=True)


def test_watched_number_alerts_on_a_new_ad_with_it(client, world) -> None:  # type: ignore[no-untyped-def]
    token = token_from(client.get("/saved").get_data(as_text=True))
    client.post("/watch", data={"numbers": "06 2222 3333", "csrf_token": token})
    assert run(world).new_matches == 0
    new_id = add_ad(world, "503", "Nora", city="Den Haag", phone="+31622223333")
    report = run(world)
    assert report.new_matches == 1
    conn = db.connect(world.data_dir)
    try:
        item = saved_db.inbox(conn, "ada")[0]
    finally:
        conn.close()
    assert (item.kind, item.label, item.ad_id) == ("watch", "+31622223333", new_id)


def test_alerts_respect_the_owners_theme_wall(app, world) -> None:  # type: ignore[no-untyped-def]
    ann = login(app.test_client(), "ann")
    save(ann, {"q": "research"}, "Research words")  # only the research-theme ad matches
    from indexer.model import AdFields as F  # noqa: N817

    store = open_store(str(world.store_path))
    try:  # a new research-theme ad: ann must not hear of it
        url = "http://127.0.0.1:8700/trends/ad/77"
        f = F("More research", "research sample two")
        store.write(Observation("demo-trends", "77", url,
                                capture(url, T0 + timedelta(days=11), f.document(), 777), f),
                    Enrichment(language="en"))
    finally:
        store.close()
    run(world)
    assert inbox_ads(world, "ann") == []


def test_new_matches_arrive_by_email(client, world, smtp_server) -> None:  # type: ignore[no-untyped-def]
    box, port = smtp_server
    save(client, {"q": "Kira"}, "Kira search")
    page = client.get("/saved").get_data(as_text=True)
    client.post("/saved/email", data={"email": "analyst@police.test",
                                      "csrf_token": token_from(page)})
    new_id = add_ad(world, "504", "Kira <b>bold</b> in Utrecht", phone="+31633334444")
    report = run(world, SmtpConfig("127.0.0.1", port, "alerts@adtrace.test"))
    assert report.mails_sent == 1 and not report.errors
    assert box.arrived.wait(10)
    msg = box.messages[0]
    assert msg["To"] == "analyst@police.test" and msg["From"] == "alerts@adtrace.test"
    body = msg.get_payload(decode=True).decode()
    assert "saved search 'Kira search': 1 new ad(s)" in body and f"/ad/{new_id}" in body
    assert "Kira" not in body.replace("Kira search", "")  # no ad text leaves by mail


def test_unreachable_smtp_is_reported_and_the_inbox_kept(client, world) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    save(client, {"q": "Vera"}, "Vera")
    page = client.get("/saved").get_data(as_text=True)
    client.post("/saved/email", data={"email": "analyst@police.test",
                                      "csrf_token": token_from(page)})
    new_id = add_ad(world, "505", "Vera in Utrecht", phone="+31644445555")
    report = run(world, SmtpConfig("127.0.0.1", dead_port, timeout_s=2))
    assert report.mails_sent == 0 and "e-mail to ada via 127.0.0.1" in report.errors[0]
    assert new_id in inbox_ads(world, "ada")


def test_bad_email_address_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/saved").get_data(as_text=True)
    client.post("/saved/email", data={"email": "not an address", "csrf_token": token_from(page)})
    assert "not an e-mail address" in client.get("/saved").get_data(as_text=True)


def test_alerts_run_command(client, world, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from adtrace.cli import main

    save(client, {"q": "Yara"}, "Yara")
    add_ad(world, "506", "Yara in Breda", city="Breda", phone="+31655556666")
    code = main(["alerts", "run", "--store", str(world.store_path),
                 "--data-dir", str(world.data_dir)])
    out = capsys.readouterr().out
    assert code == 0 and "1 new match(es)" in out and "0 e-mail(s) sent" in out
    assert main(["alerts", "run", "--store", str(world.store_path),
                 "--data-dir", str(tmp_path / "nobody")]) == 2
    assert "no accounts file there" in capsys.readouterr().err


def test_crawl_hook_runs_alerts_only_where_accounts_exist(client, world, capsys, tmp_path,
                                                          monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from adtrace.alerts_cli import run_after_crawl

    save(client, {"q": "Wren"}, "Wren")
    new_id = add_ad(world, "507", "Wren in Breda", city="Breda", phone="+31677778888")
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(world.data_dir))
    run_after_crawl(str(world.store_path))
    assert "1 new match(es)" in capsys.readouterr().out
    assert new_id in inbox_ads(world, "ada")

    empty = tmp_path / "fresh"
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(empty))
    run_after_crawl(str(world.store_path))  # no web UI here: nothing to do, nothing created
    assert capsys.readouterr().out == "" and not empty.exists()
