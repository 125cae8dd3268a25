"""The hostile world crawled once per test package; the web UI served on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from hostile_world import PASSWORD, Hostile, crawl_hostile


@pytest.fixture(scope="package")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    from werkzeug.serving import make_server

    from webui import db
    from webui.accounts import add_user
    from webui.app import create_app

    tmp = tmp_path_factory.mktemp("hostile")
    store, archive = crawl_hostile(tmp)
    data = tmp / "data"
    conn = db.connect(data)
    add_user(conn, "ada", PASSWORD, role="admin")
    conn.close()
    app = create_app({"STORE_URL": str(store), "DATA_DIR": str(data),
                      "ARCHIVE_DIR": str(archive), "SECRET_KEY": "hostile-test"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Hostile(f"http://127.0.0.1:{server.server_port}", store, archive, data)
    server.shutdown()
    thread.join()
