"""Accounts: the trends-only role, session expiry, lock-out and unlock, the users command,
and single sign-on through a trusted reverse proxy (off by default, never from elsewhere)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from webui_world import PASSWORD, login, token_from

from adtrace.cli import main
from webui import db
from webui.accounts import add_user, get_user, register_failure
from webui.app import create_app
from webui.security import TRENDS_BLUEPRINTS


def _add(world, name: str, role: str = "analyst", themes=("*",)) -> None:  # type: ignore[no-untyped-def]
    conn = db.connect(world.data_dir)
    try:
        add_user(conn, name, PASSWORD, role=role, themes=themes)
    finally:
        conn.close()


def _try(client, name: str, password: str):  # type: ignore[no-untyped-def]
    token = token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


# --------------------------------------------------------------------------- trends role
def test_trends_user_sees_aggregates_but_no_ad_person_or_export(app, world) -> None:  # type: ignore[no-untyped-def]
    _add(world, "tess", role="trends")
    client = login(app.test_client(), "tess")
    assert client.get("/").headers["Location"] == "/dashboard"
    dash = client.get("/dashboard")
    assert dash.status_code == 200
    assert client.get("/sources").status_code == 200
    closed = {
        "/search?q=anna": 404, f"/ad/{world.anna_id}": 404, "/phone/+31612345678": 404,
        "/id/email/lisa@example.com": 404, "/export.csv?q=": 404, "/admin/audit": 404,
        f"/image/{world.image_sha}": 404,
    }
    assert {url: client.get(url).status_code for url in closed} == closed
    # Every route outside the aggregate areas refuses a trends user, whatever it is.
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else ""
        if blueprint in TRENDS_BLUEPRINTS or rule.endpoint == "static" or rule.arguments:
            continue
        if "GET" in rule.methods:
            resp = client.get(rule.rule + "?q=x")
            assert resp.status_code == 404, rule.rule
    page = dash.get_data(as_text=True)
    assert "Anna new in Utrecht" not in page and "lisa@example.com" not in page
    assert "612345678" not in page  # no person: the most active numbers are left out
    admin_page = login(app.test_client()).get("/dashboard").get_data(as_text=True)
    assert "612345678" in admin_page  # ... which an analyst or admin does see


def test_trends_role_is_offered_by_the_users_command(world, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(world.data_dir))
    assert main(["users", "add", "trudy", "--role", "trends", "--password", PASSWORD]) == 0
    assert "added trudy (trends" in capsys.readouterr().out


# --------------------------------------------------------------------------- expiry
def test_idle_session_expires_on_the_server(app, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    _add(world, "idle")
    client = login(app.test_client(), "idle")
    assert client.get("/").status_code == 200
    with client.session_transaction() as sess:
        sess["seen"] = int(time.time()) - app.config["SESSION_IDLE_MINUTES"] * 60 - 5
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    assert audit_rows("session_expired", user="idle")[0].details == {"reason": "idle"}
    assert client.get("/").status_code == 302  # the session is gone, not just refused once


def test_session_ends_after_its_lifetime_even_when_active(app, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    _add(world, "busy")
    client = login(app.test_client(), "busy")
    lifetime = app.config["SESSION_MAX_HOURS"] * 3600
    with client.session_transaction() as sess:
        sess["login_at"] = int(time.time() - lifetime - 5)
        sess["seen"] = int(time.time())
    assert client.get("/").headers["Location"].startswith("/login")
    assert audit_rows("session_expired", user="busy")[0].details == {"reason": "lifetime"}


def test_a_session_without_its_clock_is_not_trusted(app, world) -> None:  # type: ignore[no-untyped-def]
    _add(world, "forged")
    client = app.test_client()
    with client.session_transaction() as sess:  # signed with the key, but no login time
        sess["user"] = "forged"
    assert client.get("/").headers["Location"].startswith("/login")


# --------------------------------------------------------------------------- lock-out
def test_repeated_failures_lock_the_account_until_an_admin_unlocks_it(  # type: ignore[no-untyped-def]
        app, world, audit_rows, monkeypatch, capsys) -> None:
    _add(world, "locky")
    client = app.test_client()
    limit = app.config["LOCKOUT_FAILURES"]
    codes = [_try(client, "locky", f"guess-{i}").status_code for i in range(limit)]
    assert codes == [401] * limit
    assert audit_rows("account_locked", user="locky")
    refused = _try(client, "locky", PASSWORD)
    assert refused.status_code == 429 and "locked" in refused.get_data(as_text=True)
    assert audit_rows("login_failed", user="locky")[0].details["reason"] == "locked"

    monkeypatch.setenv("ADTRACE_DATA_DIR", str(world.data_dir))
    assert main(["users", "list"]) == 0
    assert "locky\tanalyst\t*\tlocked until" in capsys.readouterr().out
    assert main(["users", "unlock", "locky"]) == 0
    assert audit_rows("account_unlocked")[0].target == "locky"
    assert _try(client, "locky", PASSWORD).status_code == 302
    assert main(["users", "unlock", "nobody"]) == 2


def test_a_lock_runs_out_by_itself(world) -> None:  # type: ignore[no-untyped-def]
    _add(world, "patient")
    conn = db.connect(world.data_dir)
    try:
        assert not register_failure(conn, "patient", limit=2, minutes=15)
        assert register_failure(conn, "patient", limit=2, minutes=15)
        user = get_user(conn, "patient")
    finally:
        conn.close()
    assert user is not None and user.locked()
    assert not user.locked(datetime.now(UTC) + timedelta(minutes=16))


def test_a_success_resets_the_run_of_failures(app, world) -> None:  # type: ignore[no-untyped-def]
    _add(world, "sloppy")
    client = app.test_client()
    limit = app.config["LOCKOUT_FAILURES"]
    for i in range(limit - 1):
        assert _try(client, "sloppy", f"typo-{i}").status_code == 401
    assert _try(client, "sloppy", PASSWORD).status_code == 302
    other = app.test_client()
    assert _try(other, "sloppy", "one-more-typo").status_code == 401
    assert _try(other, "sloppy", PASSWORD).status_code == 302  # not locked


def test_passwd_is_the_command_and_password_its_alias(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _add(world, "renamer")
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(world.data_dir))
    assert main(["users", "passwd", "renamer", "--password", "a new long password"]) == 0
    assert main(["users", "password", "renamer", "--password", "another long one"]) == 0
    assert main(["users", "passwd", "renamer", "--password", "short"]) == 2


# --------------------------------------------------------------------------- single sign-on
@pytest.fixture(scope="module")
def sso_app(world):  # type: ignore[no-untyped-def]
    return create_app({"STORE_URL": str(world.store_path), "DATA_DIR": str(world.data_dir),
                       "ARCHIVE_DIR": str(world.archive_dir), "SECRET_KEY": "test-secret",
                       "NOTICE": "Test notice: all use is logged.", "TESTING": True,
                       "TRUSTED_HEADER": "X-Remote-User", "TRUSTED_PROXIES": "10.0.0.5, 10.9.0.0/16"})


def test_trusted_proxy_header_signs_in_after_the_notice(sso_app, audit_rows) -> None:  # type: ignore[no-untyped-def]
    client = sso_app.test_client()
    proxy = {"environ_base": {"REMOTE_ADDR": "10.0.0.5"}, "headers": {"X-Remote-User": "ann"}}
    first = client.get("/search?q=anna", **proxy)
    assert first.headers["Location"] == "/notice"  # the notice is still accepted each login
    page = client.get("/notice", **proxy).get_data(as_text=True)
    resp = client.post("/notice", data={"accept": "yes", "csrf_token": token_from(page)}, **proxy)
    assert resp.headers["Location"] == "/search?q=anna"
    assert client.get("/", **proxy).status_code == 200
    event = audit_rows("login", user="ann")[0]
    assert event.details == {"method": "trusted_header", "remote_addr": "10.0.0.5"}
    # A network listed as a CIDR counts too.
    other = sso_app.test_client()
    resp = other.get("/", environ_base={"REMOTE_ADDR": "10.9.3.4"}, headers={"X-Remote-User": "ann"})
    assert resp.headers["Location"] == "/notice"


def test_spoofed_header_from_anywhere_else_is_ignored(sso_app, app) -> None:  # type: ignore[no-untyped-def]
    spoof = {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}, "headers": {"X-Remote-User": "ada"}}
    client = sso_app.test_client()
    resp = client.get("/admin/audit", **spoof)
    assert resp.headers["Location"].startswith("/login")
    assert client.get("/notice", **spoof).headers["Location"].startswith("/login")
    # With single sign-on off (the default) the header means nothing, even from loopback.
    plain = app.test_client()
    off = plain.get("/", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                    headers={"X-Remote-User": "ada"})
    assert off.headers["Location"].startswith("/login")


def test_trusted_proxy_cannot_sign_in_an_unknown_or_disabled_name(sso_app, audit_rows) -> None:  # type: ignore[no-untyped-def]
    resp = sso_app.test_client().get("/", environ_base={"REMOTE_ADDR": "10.0.0.5"},
                                     headers={"X-Remote-User": "mallory"})
    assert resp.status_code == 403
    assert audit_rows("login_failed", user="mallory")[0].details["method"] == "trusted_header"


def test_bad_proxy_setting_is_named() -> None:
    from webui.sso import parse_proxies

    with pytest.raises(ValueError, match="'10.0.0.999'"):
        parse_proxies("10.0.0.5, 10.0.0.999")
