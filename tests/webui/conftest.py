"""Fixtures for the web UI tests: the world (see webui_world), the app, signed-in clients."""

from __future__ import annotations

import pytest
from webui_world import World, build_world, login

from webui import db
from webui.app import create_app


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("webui"),
                       {"ada": None, "ann": ("trafficking",)})


@pytest.fixture(scope="module")
def app(world: World):
    return create_app({"STORE_URL": str(world.store_path), "DATA_DIR": str(world.data_dir),
                       "ARCHIVE_DIR": str(world.archive_dir), "SECRET_KEY": "test-secret",
                       "NOTICE": "Test notice: all use is logged.", "TESTING": True})


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return login(app.test_client())


@pytest.fixture()
def analyst(app):  # type: ignore[no-untyped-def]
    return login(app.test_client(), "ann")


@pytest.fixture()
def audit_rows(world: World):  # type: ignore[no-untyped-def]
    """Read the audit log from the accounts file, newest first."""
    from webui import audit

    def rows(action: str | None = None, user: str | None = None) -> list[audit.AuditEvent]:
        conn = db.connect(world.data_dir)
        try:
            return audit.events(conn, user=user, action=action)
        finally:
            conn.close()

    return rows
