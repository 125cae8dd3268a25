"""Dutch and English: the user's choice (session and saved per user), the browser's
preference otherwise; complete catalogues for these pages; the help page; thumbnails."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from webui_world import PASSWORD, login, token_from

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "webui" / "templates"
# The templates of this area; each visible English text must have a Dutch translation.
OWN_TEMPLATES = ("ad.html", "_version.html", "_assessment.html", "diff.html", "capture.html",
                 "report.html", "help.html", "_language.html", "_facets.html", "_hit.html",
                 "search.html", "base.html")
KEY_RE = re.compile(r"""_\(\s*(['"])(.*?)(?<!\\)\1""")


def catalogue() -> dict[str, str]:
    return yaml.safe_load((ROOT / "webui" / "translations" / "nl.yaml").read_text("utf-8"))


def switch(client, lang: str, next_url: str = "/search"):  # type: ignore[no-untyped-def]
    token = token_from(client.get("/help").get_data(as_text=True))
    return client.post("/prefs/lang", data={"lang": lang, "next": next_url, "csrf_token": token})


def test_every_text_of_these_templates_is_translated():
    nl = catalogue()
    missing = [(name, key) for name in OWN_TEMPLATES
               for _q, key in KEY_RE.findall((TEMPLATES / name).read_text("utf-8"))
               if key not in nl]
    assert missing == []


def test_catalogue_is_strings_with_the_same_placeholders():
    for english, dutch in catalogue().items():
        assert isinstance(english, str) and isinstance(dutch, str), english
        assert set(re.findall(r"\{\w+\}", english)) == set(re.findall(r"\{\w+\}", dutch)), english


def test_language_switch_is_kept_for_the_session_and_the_user(app, world):
    client = login(app.test_client(), "ann")
    page = client.get("/search").get_data(as_text=True)
    assert '<html lang="en">' in page and ">Search</button>" in page
    resp = switch(client, "nl", "/search?q=anna")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/search?q=anna")
    page = client.get("/search").get_data(as_text=True)
    assert '<html lang="nl">' in page and ">Zoeken</button>" in page and "Afmelden" in page
    again = login(app.test_client(), "ann")  # a new session: the saved choice holds
    assert '<html lang="nl">' in again.get("/search").get_data(as_text=True)
    switch(again, "en")
    assert '<html lang="en">' in again.get("/search").get_data(as_text=True)


def test_browser_language_is_the_default_and_bad_choices_are_refused(app):
    client = login(app.test_client(), "ada")
    page = client.get("/help", headers={"Accept-Language": "nl-NL,nl;q=0.9"}).get_data(as_text=True)
    assert '<html lang="nl">' in page and "Bewijsniveaus" in page
    assert switch(client, "de").status_code == 400
    token = token_from(client.get("/help").get_data(as_text=True))
    resp = client.post("/prefs/lang", data={"lang": "nl", "next": "https://evil.test/",
                                            "csrf_token": token})
    assert resp.headers["Location"] == "/search"  # never off-site after a switch


def test_help_explains_syntax_indicators_and_evidence_levels(client, audit_rows):
    from indexer.enrich.catalogue import load_catalogue

    page = client.get("/help").get_data(as_text=True)
    assert "phone:06-12345678" in page and '"new in town"' in page
    for level in ("validated", "commonly_cited", "experimental"):
        assert f"level-{level}" in page
    for indicator in load_catalogue().indicators:
        assert f'id="ind-{indicator.id}"' in page


def test_thumbnails_are_blurred_until_the_user_turns_it_off(app):
    client = login(app.test_client(), "ada")
    page = client.get("/search?q=anna").get_data(as_text=True)
    assert 'class="thumb blurred"' in page
    token = token_from(page)
    resp = client.post("/prefs/blur", data={"blur": "off", "next": "/search?q=anna",
                                            "csrf_token": token})
    assert resp.status_code == 302
    page = client.get("/search?q=anna").get_data(as_text=True)
    assert 'class="thumb blurred"' not in page and '<img class="thumb"' in page
    assert client.post("/prefs/blur", data={"blur": "maybe", "csrf_token": token}).status_code == 400
    client.post("/prefs/blur", data={"blur": "on", "csrf_token": token})
    assert 'class="thumb blurred"' in client.get("/search?q=anna").get_data(as_text=True)


def test_facets_show_ten_values_and_the_rest_behind_show_more():
    from flask import Flask, render_template_string

    from webui.i18n import init_app

    app = Flask(__name__, template_folder=str(TEMPLATES))
    init_app(app)
    values = [{"value": f"v{i}", "label": f"Town {i}", "count": 30 - i, "selected": False,
               "url": f"/search?f.city=v{i}"} for i in range(14)]
    facets = [{"name": "city", "label": "Place", "values": values, "truncated": False,
               "timed_out": False}]
    with app.test_request_context("/"):
        html = render_template_string('{% include "_facets.html" %}', facets=facets)
    shown, more = html.split("<details")
    assert shown.count("<li") == 10 and more.count("<li") == 4
    assert "Show 4 more" in more and "Town 13" in more


def test_every_text_of_every_template_is_translated():
    nl = catalogue()
    missing = [(path.name, key) for path in sorted(TEMPLATES.glob("*.html"))
               for _q, key in KEY_RE.findall(path.read_text("utf-8"))
               if key not in nl]
    assert missing == []


def dutch_client(app):  # type: ignore[no-untyped-def]
    """A browser that asks for Dutch on every request (nothing saved for the user)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9"
    return client


def test_sign_in_and_notice_pages_speak_dutch(app):
    client = dutch_client(app)
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="nl">' in page and "<h1>Aanmelden</h1>" in page
    assert "Wachtwoord" in page and "<h1>Sign in</h1>" not in page and ">Password" not in page
    token = token_from(page)
    resp = client.post("/login", data={"name": "ada", "password": "wrong", "csrf_token": token})
    assert resp.status_code == 401
    assert "Onbekende naam of verkeerd wachtwoord." in resp.get_data(as_text=True)
    resp = client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    page = client.get("/notice").get_data(as_text=True)
    assert "<h1>Voordat u verdergaat</h1>" in page and "Before you continue" not in page
    assert "Ik, ada, heb deze mededeling gelezen en ga ermee akkoord." in page
    assert ">Doorgaan</button>" in page
    assert "Test notice: all use is logged." in page  # the configured notice is shown as set
    refused = client.post("/notice", data={"csrf_token": token_from(page)}).get_data(as_text=True)
    assert "U moet de mededeling accepteren om verder te gaan." in refused


def test_error_audit_crawls_and_sources_pages_speak_dutch(app):
    client = login(dutch_client(app), "ada")  # an admin
    resp = client.get("/no-such-page")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 404 and '<html lang="nl">' in page
    assert "Niet gevonden" in page and "De gevraagde URL bestaat niet" in page
    assert "Terug naar zoeken" in page
    assert "Not found" not in page and "Back to search" not in page
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "<title>Auditlog" in page and "Hashketen intact" in page
    assert "Gebruiker" in page and "Deze regels exporteren:" in page and "Doel" in page
    assert "Audit log" not in page and "Hash chain" not in page and "When (UTC)" not in page
    page = client.get("/crawls").get_data(as_text=True)
    assert "<h1>Verzamelrondes</h1>" in page and "Nieuwe advertenties" in page
    assert "<h1>Crawls</h1>" not in page and "New ads" not in page
    page = client.get("/sources").get_data(as_text=True)
    assert "<h1>Bronnenregister</h1>" in page and "Onderbouwing" in page
    assert "Goedgekeurd op" in page and "Geregistreerd sinds (UTC)" in page
    assert "Source register" not in page and "Justification" not in page
