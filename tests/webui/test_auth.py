"""Login, notice, CSRF and the guard that makes every route need a login."""

from __future__ import annotations

import re

import pytest
from webui_world import PASSWORD, login, token_from

from webui import db
from webui.accounts import add_user, set_disabled

SAMPLE_ARGS = {"ad_id": "0" * 16, "number": "+31612345678", "kind": "email",
               "value": "a@b.example", "sha256": "a" * 64, "filename": "style.css"}


def _url_for_rule(rule) -> str:  # type: ignore[no-untyped-def]
    """A URL for any rule, including routes other areas add later: known arguments get a
    realistic value, numeric converters a number, anything else a plain word."""
    from werkzeug.routing.converters import NumberConverter

    values: dict[str, object] = {}
    for arg in rule.arguments:
        converter = rule._converters.get(arg)
        values[arg] = 1 if isinstance(converter, NumberConverter) else SAMPLE_ARGS.get(arg, "x1")
    url = rule.rule
    for arg, value in values.items():
        url = re.sub(r"<(?:[^<>]+:)?" + arg + ">", str(value), url)
    return url


def test_every_route_but_login_and_static_requires_login(app) -> None:  # type: ignore[no-untyped-def]
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in ("static", "auth.login")]
    assert len(rules) >= 9  # search x2, export, ad, phone, id, image, audit, notice, logout
    client = app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    for rule in rules:
        url = _url_for_rule(rule)
        if "GET" in rule.methods:
            resp = client.get(url)
            assert resp.status_code == 302, url
            assert resp.headers["Location"].startswith("/login"), url
        if "POST" in rule.methods:
            resp = client.post(url, data={"csrf_token": token})
            assert resp.status_code == 401, url


def test_login_and_static_are_public(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert client.get("/login").status_code == 200
    css = client.get("/static/style.css")
    assert css.status_code == 200 and b"font" in css.data


def test_unknown_paths_do_not_reveal_themselves_before_login(app) -> None:  # type: ignore[no-untyped-def]
    resp = app.test_client().get("/no/such/page")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_wrong_password_is_refused_and_audited(app, audit_rows) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"name": "ada", "password": "wrong-password",
                                       "csrf_token": token})
    assert resp.status_code == 401
    assert "wrong password" in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert audit_rows("login_failed")[0].target == "ada"


def test_notice_must_be_accepted_before_any_page(app, audit_rows) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token})
    assert resp.headers["Location"] == "/notice"
    # Password given, notice not yet accepted: every page sends back to the notice.
    assert client.get("/search?q=anna").headers["Location"] == "/notice"
    page = client.get("/notice").get_data(as_text=True)
    assert "Test notice: all use is logged." in page
    token = token_from(page)
    refused = client.post("/notice", data={"csrf_token": token})
    assert "must accept" in refused.get_data(as_text=True)
    assert client.get("/").headers["Location"] == "/notice"
    accepted = client.post("/notice", data={"accept": "yes", "csrf_token": token})
    assert accepted.status_code == 302
    assert client.get("/").status_code == 200
    event = audit_rows("notice_accepted", user="ada")[0]
    assert event.details["notice"] == "Test notice: all use is logged."
    assert audit_rows("login", user="ada")


def test_csrf_token_is_enforced_on_posts(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.get("/login")
    no_token = client.post("/login", data={"name": "ada", "password": PASSWORD})
    assert no_token.status_code == 400
    bad = client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": "x"})
    assert bad.status_code == 400
    login(client)
    assert client.post("/logout").status_code == 400  # no token: still signed in
    assert client.get("/").status_code == 200
    token = token_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_every_post_form_carries_the_token(client, world) -> None:  # type: ignore[no-untyped-def]
    for url in ("/", f"/ad/{world.anna_id}", "/phone/+31612345678", "/admin/audit"):
        html = client.get(url).get_data(as_text=True)
        forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S)
        assert forms, url
        assert all('name="csrf_token"' in f for f in forms), url


@pytest.mark.parametrize("target", [
    "//evil.example/x", "https://evil.example/x", "/\\evil.example/x",
    "/\t/evil.example/", "/\n/evil.example/", "/\r\n/evil.example/", "\t//evil.example/",
    "/search?q=" + "x" * 6000])  # too long: kept in the session, its cookie is refused
def test_login_never_redirects_off_site(app, target: str) -> None:  # type: ignore[no-untyped-def]
    """Browsers drop tabs and newlines from a URL: "/<tab>/evil.example" is "//evil.example".
    A page too long to keep in the session cookie is not kept either."""
    client = app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token,
                                "next": target})
    token = token_from(client.get("/notice").get_data(as_text=True))
    resp = client.post("/notice", data={"accept": "yes", "csrf_token": token})
    assert resp.headers["Location"] == "/search"


def test_next_page_is_kept_through_login(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    first = client.get("/phone/+31612345678")
    assert first.headers["Location"] == "/login?next=/phone/%2B31612345678"
    token = token_from(client.get(first.headers["Location"]).get_data(as_text=True))
    client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token,
                                "next": "/phone/+31612345678"})
    token = token_from(client.get("/notice").get_data(as_text=True))
    resp = client.post("/notice", data={"accept": "yes", "csrf_token": token})
    assert resp.headers["Location"] == "/phone/+31612345678"


def test_disabled_account_is_signed_out_at_once(app, world) -> None:  # type: ignore[no-untyped-def]
    conn = db.connect(world.data_dir)
    add_user(conn, "temp", PASSWORD)
    client = login(app.test_client(), "temp")
    assert client.get("/").status_code == 200
    set_disabled(conn, "temp", True)
    conn.close()
    assert client.get("/").status_code == 302
    token = token_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"name": "temp", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 401


@pytest.mark.parametrize("path", ["/login", "/", "/static/style.css"])
def test_security_headers_on_every_response(app, client, path) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "img-src 'self' data:" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Frame-Options"] == "DENY"
    policy = resp.headers["Permissions-Policy"]
    assert "attribution-reporting=()" in policy and "geolocation=()" in policy
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP (the demo)


def test_over_https_the_session_cookie_is_secure_and_hsts_is_sent(
        world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from webui.app import create_app

    monkeypatch.setenv("ADTRACE_HTTPS", "yes")
    app = create_app({"STORE_URL": str(world.store_path), "DATA_DIR": str(world.data_dir),
                      "ARCHIVE_DIR": str(world.archive_dir), "SECRET_KEY": "test-secret",
                      "TESTING": True})
    client = app.test_client()
    page = client.get("/login", base_url="https://adtrace.test")
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    resp = client.post("/login", base_url="https://adtrace.test", data={
        "name": "ada", "password": PASSWORD, "csrf_token": token_from(page.get_data(as_text=True))})
    cookies = [v for k, v in resp.headers.items() if k == "Set-Cookie"]
    assert cookies and all("; Secure" in c and "HttpOnly" in c for c in cookies), cookies


def test_pages_have_no_inline_script(app, client, world) -> None:  # type: ignore[no-untyped-def]
    pages = [client.get(u).get_data(as_text=True)
             for u in ("/?q=lisa", f"/ad/{world.lisa_id}", f"/ad/{world.anna_id}")]
    pages.append(app.test_client().get("/login").get_data(as_text=True))
    for html in pages:
        scripts = re.findall(r"<script([^>]*)>", html)
        assert scripts and all('src="/static/' in s for s in scripts)
        assert not re.search(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", html)


def test_repeated_failures_throttle_sign_in(app, world) -> None:  # type: ignore[no-untyped-def]
    conn = db.connect(world.data_dir)
    add_user(conn, "target", PASSWORD)
    conn.close()
    client = app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    codes = [client.post("/login", data={"name": "target", "password": f"guess-{i}",
                                         "csrf_token": token}).status_code for i in range(11)]
    assert codes == [401] * 10 + [429]
    right = client.post("/login", data={"name": "target", "password": PASSWORD,
                                        "csrf_token": token})
    assert right.status_code == 429  # even the right password waits out the window
