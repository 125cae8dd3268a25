"""The source register page (/sources): every source with its theme, justification,
approver, approval date, sections, since when, enabled, and the history of its entry."""

from __future__ import annotations

import re
from dataclasses import replace

from webui_world import RESEARCH, VELVET, login

from indexer.store import open_store


def _register(world, *infos) -> None:  # type: ignore[no-untyped-def]
    store = open_store(str(world.store_path))
    try:
        for info in infos:
            store.upsert_source(info)
    finally:
        store.close()


def test_register_shows_every_field_and_the_history_of_changes(client, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    updated = replace(VELVET, reason="Escort ads in the pilot region <b>bold</b>",
                      approved_by="Chief Inspector Jansen", approved_on="2026-02-01",
                      sections=("Utrecht: city/utrecht/", "Amsterdam: city/amsterdam/"),
                      enabled=False)
    _register(world, updated)
    resp = client.get("/sources")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    row = html.split('id="source-demo-velvet"')[1].split("</tr>")[0]
    for text in ("Velvet Nights", "trafficking", "Chief Inspector Jansen", "2026-02-01",
                 "Utrecht: city/utrecht/", "Amsterdam: city/amsterdam/"):
        assert text in row, text
    assert "&lt;b&gt;bold&lt;/b&gt;" in row and "<b>bold" not in row  # register text is escaped
    assert re.search(r"<td>no</td>", row)  # disabled
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)  # registered since
    history = html.split('id="source-demo-velvet"')[1].split('id="source-')[0]
    assert "History (2 revisions)" in history
    assert "registered" in history
    assert "changed: reason, approved_by, approved_on, sections, enabled" in history
    assert "justification: demo" in history  # the old entry is kept
    assert 'href="http://127.0.0.1:8700' not in html  # the site is never a link
    assert "Trend Board" in html  # the admin sees every theme
    assert audit_rows("view_sources", user="ada")[0].details == {"sources": 2}


def test_register_behind_a_theme_wall(analyst) -> None:  # type: ignore[no-untyped-def]
    html = analyst.get("/sources").get_data(as_text=True)
    assert "Velvet Nights" in html and "Trend Board" not in html and "demo-trends" not in html


def test_unchanged_re_registration_adds_no_revision(client, world) -> None:  # type: ignore[no-untyped-def]
    before = client.get("/sources").get_data(as_text=True).count("<li>")
    _register(world, RESEARCH, RESEARCH)
    assert client.get("/sources").get_data(as_text=True).count("<li>") == before


def test_register_needs_a_login(app) -> None:  # type: ignore[no-untyped-def]
    resp = app.test_client().get("/sources")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    assert login(app.test_client(), "ann").get("/sources").status_code == 200
