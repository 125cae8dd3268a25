"""Connections kept between requests (webui.resources): one store per process, one
accounts connection per thread, nothing opened before the first request, and a fresh
set in a forked child (a SQLite connection never crosses a fork)."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from webui_world import login

from webui.app import create_app, get_accounts, get_store


def _app(world):  # type: ignore[no-untyped-def]
    return create_app({"STORE_URL": str(world.store_path), "DATA_DIR": str(world.data_dir),
                       "ARCHIVE_DIR": str(world.archive_dir), "SECRET_KEY": "t", "NOTICE": "n"})


def _open_files_under(folder: Path) -> list[str]:
    """Files of this process's open descriptors that lie in ``folder``."""
    out = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith(str(folder)):
            out.append(target)
    return out


def test_building_the_app_opens_nothing_the_workers_would_inherit(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The server builds the app in its master, then forks: no SQLite file may be open."""
    shutil.copy(world.store_path, tmp_path / "store.sqlite3")
    app = create_app({"STORE_URL": str(tmp_path / "store.sqlite3"),
                      "DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "t", "NOTICE": "n"})
    assert "adtrace_resources" not in app.extensions
    assert (tmp_path / "data" / "accounts.sqlite3").exists()  # made, and closed again
    assert _open_files_under(tmp_path) == []
    with app.test_request_context("/"):
        get_store(), get_accounts()
    assert _open_files_under(tmp_path)  # opened on first use, as a worker does


def test_the_store_is_kept_between_requests_and_its_count_cache_with_it(world) -> None:  # type: ignore[no-untyped-def]
    app = _app(world)
    client = login(app.test_client())
    assert client.get("/search?q=anna").status_code == 200
    with app.test_request_context("/"):
        first = get_store()
    assert client.get("/search?q=anna&page=2").status_code == 200
    with app.test_request_context("/"):
        assert get_store() is first  # not closed and reopened per request
    assert len(first._counted) >= 1  # the counts of q=anna, kept for its other pages


def test_each_thread_has_its_own_accounts_connection_kept_between_requests(world) -> None:  # type: ignore[no-untyped-def]
    app = _app(world)
    seen: dict[str, list[object]] = {}  # the connections themselves: ids may be reused

    def two_requests(name: str) -> None:
        for _ in range(2):
            with app.test_request_context("/"):
                seen.setdefault(name, []).append(get_accounts())

    threads = [threading.Thread(target=two_requests, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["a"][0] is seen["a"][1] and seen["b"][0] is seen["b"][1]
    assert seen["a"][0] is not seen["b"][0]


def test_a_forked_child_opens_its_own_connections(world) -> None:  # type: ignore[no-untyped-def]
    app = _app(world)
    client = login(app.test_client())
    assert client.get("/search?q=anna").status_code == 200
    with app.test_request_context("/"):
        parent_store, parent_accounts = id(get_store()), id(get_accounts())
    pid = os.fork()
    if pid == 0:  # the child: exit status says what it found
        code = 1
        try:
            ok = client.get("/search?q=anna").status_code == 200
            with app.test_request_context("/"):
                fresh = id(get_store()) != parent_store and id(get_accounts()) != parent_accounts
            code = 0 if ok and fresh else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert client.get("/search?q=anna").status_code == 200  # the parent's are unharmed
