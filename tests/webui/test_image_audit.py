"""An image fetch is spared its own audit row only when an audited page showed that image
to the same signed-in session, recently; the client's Sec-Fetch-Dest header alone never
spares it (webui.views.images, webui.shown_images)."""

from __future__ import annotations

import pytest
from flask import Flask, g
from webui_world import World, login, token_from

from webui import audit, shown_images
from webui.accounts import get_user
from webui.app import create_app, get_accounts
from webui.shown_images import ShownImages

AS_IMAGE = {"Sec-Fetch-Dest": "image"}


class Clock:
    """A clock the test moves by hand: no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def image_rows(audit_rows, user: str) -> list[audit.AuditEvent]:  # type: ignore[no-untyped-def]
    return audit_rows("view_archived", user=user)


def fetch_writes_row(client, world: World, audit_rows, user: str,  # type: ignore[no-untyped-def]
                     headers: dict[str, str] | None = None) -> bool:
    """Fetch the world's image; whether that wrote a view_archived row for ``user``."""
    before = [e.id for e in image_rows(audit_rows, user)]
    resp = client.get(f"/image/{world.image_sha}", headers=headers or {})
    assert resp.status_code == 200
    after = image_rows(audit_rows, user)
    new = [e for e in after if e.id not in before]
    assert len(new) <= 1
    if new:
        assert new[0].target == world.image_sha
        assert new[0].details == {"image": True, "found": True, "ads": [world.anna_id]}
    return bool(new)


def test_forged_header_for_an_image_no_page_showed_is_audited(client, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    """A script that says 'image' but was shown the photo by no page: a look-up, audited."""
    assert fetch_writes_row(client, world, audit_rows, "ada", AS_IMAGE)


def test_image_shown_by_the_audited_ad_page_is_covered_by_its_row(client, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    assert client.get(f"/ad/{world.anna_id}").status_code == 200
    assert not fetch_writes_row(client, world, audit_rows, "ada", AS_IMAGE)
    assert not fetch_writes_row(client, world, audit_rows, "ada", AS_IMAGE)  # reloaded
    # the same session opening it on its own (a tab): still a look-up of its own
    assert fetch_writes_row(client, world, audit_rows, "ada")
    assert fetch_writes_row(client, world, audit_rows, "ada", {"Sec-Fetch-Dest": "document"})


@pytest.mark.parametrize("page", ["/search?q=anna", "/ad/{ad}/compare?a=1&b=2",
                                  "/ad/{ad}/v/2/report"])
def test_every_page_showing_images_registers_them(client, world, audit_rows, page: str) -> None:  # type: ignore[no-untyped-def]
    html = client.get(page.format(ad=world.anna_id)).get_data(as_text=True)
    assert f"/image/{world.image_sha}" in html
    assert not fetch_writes_row(client, world, audit_rows, "ada", AS_IMAGE)


def test_another_users_session_is_audited(client, analyst, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    """ada's page showed the photo; ann (who may see it too) never opened a page with it."""
    assert client.get(f"/ad/{world.anna_id}").status_code == 200
    assert fetch_writes_row(analyst, world, audit_rows, "ann", AS_IMAGE)


def test_another_session_of_the_same_user_is_audited(app, client, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    """Kept per session, not per user: ada signed in elsewhere was shown nothing there."""
    assert client.get(f"/ad/{world.anna_id}").status_code == 200
    elsewhere = login(app.test_client(), "ada")
    assert fetch_writes_row(elsewhere, world, audit_rows, "ada", AS_IMAGE)
    assert not fetch_writes_row(client, world, audit_rows, "ada", AS_IMAGE)


def test_signing_in_again_starts_a_new_record(app, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    browser = login(app.test_client(), "ada")
    assert browser.get(f"/ad/{world.anna_id}").status_code == 200
    token_page = browser.get("/search").get_data(as_text=True)
    assert browser.post("/logout", data={"csrf_token": token_from(token_page)}).status_code == 302
    login(browser, "ada")
    assert fetch_writes_row(browser, world, audit_rows, "ada", AS_IMAGE)


def test_a_photo_shown_longer_ago_than_the_window_is_audited(world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    app = create_app({"STORE_URL": str(world.store_path), "DATA_DIR": str(world.data_dir),
                      "ARCHIVE_DIR": str(world.archive_dir), "SECRET_KEY": "test-secret"})
    shown_images.install(app, ShownImages(clock=clock))
    client = login(app.test_client(), "ada")
    assert client.get(f"/ad/{world.anna_id}").status_code == 200
    clock.now += shown_images.WINDOW_SECONDS
    assert not fetch_writes_row(client, world, audit_rows, "ada", AS_IMAGE)  # just within
    clock.now += 1
    assert fetch_writes_row(client, world, audit_rows, "ada", AS_IMAGE)
    assert client.get(f"/ad/{world.anna_id}").status_code == 200  # shown again: covered again
    assert not fetch_writes_row(client, world, audit_rows, "ada", AS_IMAGE)


def _render_image_url(app: Flask, world: World, audited: bool) -> bool:
    """Call the templates' helper in a request of ada's; whether the image got registered."""
    with app.test_request_context("/"):
        g.user = get_user(get_accounts(), "ada")
        if audited:
            audit.record("view_ad", target=world.anna_id, details={"test": True})
        assert shown_images.image_url(world.image_sha) == f"/image/{world.image_sha}"
        return shown_images.was_shown(world.image_sha)


def test_a_page_that_wrote_no_audit_row_cannot_register(app, world) -> None:  # type: ignore[no-untyped-def]
    assert not _render_image_url(app, world, audited=False)
    assert _render_image_url(app, world, audited=True)


def test_a_row_written_for_someone_else_does_not_make_the_page_audited(app, world) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context("/"):
        g.user = get_user(get_accounts(), "ada")
        audit.record("login", target="ann", user="ann")
        assert not shown_images.page_audited()


def test_each_session_keeps_a_bounded_set() -> None:
    shown = ShownImages(max_per_session=3, clock=Clock())
    shown.add(("ada", "s1"), ["a", "b", "c", "d"])
    assert not shown.was_shown(("ada", "s1"), "a")  # oldest dropped
    assert all(shown.was_shown(("ada", "s1"), sha) for sha in "bcd")
    shown.add(("ada", "s1"), ["b", "e"])  # b shown again: now the newest but one
    assert [sha for sha in "bcde" if shown.was_shown(("ada", "s1"), sha)] == ["b", "d", "e"]


def test_sessions_are_bounded_and_expired_ones_dropped() -> None:
    clock = Clock()
    shown = ShownImages(window=60, max_sessions=2, clock=clock)
    shown.add(("ada", "s1"), ["a"])
    shown.add(("ann", "s2"), ["a"])
    shown.add(("bob", "s3"), ["a"])
    assert shown.sessions() == 2 and not shown.was_shown(("ada", "s1"), "a")
    assert shown.was_shown(("bob", "s3"), "a") and not shown.was_shown(("bob", "s1"), "a")
    clock.now += 61
    shown.add(("cat", "s4"), ["b"])
    assert shown.sessions() == 1  # the two older sessions had only expired entries
    assert not shown.was_shown(("bob", "s3"), "a")
