"""``adtrace crawl status`` and the ``/crawls`` page show the last run per source."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adtrace.cli import main
from indexer.crawl_runs import CrawlRun, RunError
from indexer.model import SourceInfo
from indexer.store.sqlite import SqliteStore

REPO = Path(__file__).resolve().parents[2]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "webui"))
from webui_world import PASSWORD, login  # noqa: E402

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "s.sqlite3"
    with SqliteStore(path) as store:
        for sid, theme in (("demo-board", "trafficking"), ("secret-site", "other")):
            store.upsert_source(SourceInfo(sid, sid.title(), theme, "BE", "http://x/"))
        store.record_crawl_run(CrawlRun("demo-board", T - timedelta(days=1), T, pages=3))
        store.record_crawl_run(CrawlRun(
            "demo-board", T, T + timedelta(minutes=2), pages=120, new_ads=40, new_versions=7,
            unchanged=70, removed=3, errors=2, duration=95.5, finish_reason="finished",
            listings_complete=True, error_kinds=(("http", 1), ("page", 1)),
            error_samples=(RunError("http://x/ad/4", "http 500 <script>"),
                           RunError("http://x/ad/5\n    error: fake", "gone\x1b[2J\rcleared"))))
    return path


def test_cli_prints_the_last_run_per_source(store_path: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "no-sources"
    empty.mkdir()
    assert main(["crawl", "status", "--store", str(store_path), "--dir", str(empty)]) == 0
    out = capsys.readouterr().out
    assert ("demo-board: last run 2026-11-02T09:00:00Z (finished) pages=120 new_ads=40 "
            "new_versions=7 removed=3 errors=2 (http 1, page 1) duration=95.5s") in out
    assert "    error: http://x/ad/4: http 500 <script>" in out
    # what a site sent stays on its own line, its escapes shown, never acted on
    assert "    error: http://x/ad/5\\n    error: fake: gone\\x1b[2J\\rcleared" in out
    assert "\x1b" not in out and "\r" not in out
    assert "secret-site: never crawled" in out
    base = ["crawl", "status", "--store", str(store_path), "--dir", str(empty)]
    assert main([*base, "--source", "secret-site"]) == 0  # in the store: known
    assert capsys.readouterr().out == "secret-site: never crawled\n"
    assert main([*base, "--source", "demo-bord"]) == 2  # a typo: not "never crawled"
    out, err = capsys.readouterr()
    assert out == "" and "--source demo-bord: no such source (not in the register nor in " \
        "the store)" in err, err


def crawls_app(store_path: Path, data: Path, register: Path | None = None) -> Any:
    """The web app over the store and a register (an empty one unless given), with
    analyst ann (theme trafficking)."""
    from webui import db
    from webui.accounts import add_user
    from webui.app import create_app

    conn = db.connect(data)
    add_user(conn, "ann", PASSWORD, role="analyst", themes=("trafficking",))
    conn.close()
    if register is None:
        register = data.parent / "no-sources"
        register.mkdir(exist_ok=True)
    return create_app({"STORE_URL": str(store_path), "DATA_DIR": str(data),
                       "ARCHIVE_DIR": str(data.parent / "archive"), "SECRET_KEY": "t",
                       "SOURCES_DIR": str(register), "TESTING": True})


def test_crawls_page_shows_runs_within_the_users_themes(store_path: Path,
                                                        tmp_path: Path) -> None:
    from webui import db

    data = tmp_path / "data"
    app = crawls_app(store_path, data)
    anonymous = app.test_client().get("/crawls")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    client = login(app.test_client(), "ann")
    html = client.get("/crawls").get_data(as_text=True)
    assert 'data-source="demo-board"' in html and "secret-site" not in html
    assert ">120<" in html and ">40<" in html and "95.5 s" in html
    assert "http 500 &lt;script&gt;" in html and "<script>" not in html.split("<main>")[1]
    kinds = html.split('class="error-kinds">', 1)[1].split("</p>", 1)[0]
    assert kinds.startswith("By kind: ") and ">http 1</span>, <span" in kinds
    assert 'title="a page that could not be read' in kinds and ">page 1</span>" in kinds
    assert 'href="/crawls"' in html
    # the page names ad URLs and what the sites answered: its view is in the audit log
    from webui import audit

    conn = db.connect(data)
    try:
        seen = audit.events(conn, user="ann", action="view_sources")
    finally:
        conn.close()
    assert [(e.target, e.details["sources"]) for e in seen] == [("crawls", 1)]


def test_the_crawls_page_lists_the_register_sources_never_crawled_as_the_cli_does(
        store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An approved source that never ran is seen on both, behind the same theme wall as
    the crawled ones; a disabled one is not listed; its name from the file is escaped."""
    from fixture_site import SOURCE_YAML

    register = tmp_path / "sources"
    register.mkdir()
    good = SOURCE_YAML.format(base="http://x.example/")
    for sid, theme, more in (("demo-board", "trafficking", ""),
                             ("new-site", "trafficking", ""),
                             ("walled-site", "other", ""),
                             ("off-site", "trafficking", "enabled: false\n")):
        (register / f"{sid}.yaml").write_text(
            good.replace("id: fixture-site", f"id: {sid}")
            .replace("name: Fixture site", 'name: "<b>New</b> site"')
            .replace("theme: trafficking", f"theme: {theme}") + more, encoding="utf-8")
    assert main(["crawl", "status", "--store", str(store_path), "--dir", str(register)]) == 0
    cli = {line.split(":")[0] for line in capsys.readouterr().out.splitlines()
           if not line.startswith(" ")}
    assert cli == {"demo-board", "new-site", "walled-site", "secret-site"}
    app = crawls_app(store_path, tmp_path / "data", register)
    html = login(app.test_client(), "ann").get("/crawls").get_data(as_text=True)
    row = html.split('data-source="new-site"')[1].split("</tr>")[0]
    assert "never crawled" in row and "&lt;b&gt;New&lt;/b&gt; site" in row
    assert "<b>New</b>" not in html
    assert 'data-source="demo-board"' in html  # as the store has it, with its runs
    assert "walled-site" not in html and "secret-site" not in html  # theme other
    assert "off-site" not in html


def test_a_run_begun_and_never_ended_is_the_last_run_shown(store_path: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    """A crawl records its start (crawler.pipelines); killed, it never records its end:
    status says so, where it showed the run before as the last. The scheduler still
    counts from the last run that ended (a killed run is started again at once)."""
    from crawler.schedule import last_started
    from indexer.crawl_runs import run_begun

    later = T + timedelta(hours=6)
    with SqliteStore(store_path) as store:
        store.record_crawl_run(run_begun("demo-board", later))
        assert last_started(store, "demo-board") == T
    empty = tmp_path / "no-sources"
    empty.mkdir()
    assert main(["crawl", "status", "--store", str(store_path), "--dir", str(empty)]) == 0
    out = capsys.readouterr().out
    assert ("demo-board: last run 2026-11-02T15:00:00Z (unfinished: running now, or stopped "
            "before it could record its end); last ended run 2026-11-02T09:00:00Z (finished) "
            "pages=120") in out
    assert "    error: http://x/ad/4: http 500 <script>" in out  # the ended run's errors
    html = login(crawls_app(store_path, tmp_path / "data").test_client(), "ann").get(
        "/crawls").get_data(as_text=True)
    row = html.split('data-source="demo-board"')[1].split("</tr>")[0]
    assert "2026-11-02 15:00" in row and "unfinished: running now" in row
    assert ">0<" not in row  # no figures for a run that has none yet
    assert "Errors in the last run of <code>demo-board</code> (2026-11-02 09:00)" in html
    assert "http 500 &lt;script&gt;" in html
    earlier = html.split("Earlier runs of")[1]
    assert "<td>finished</td>" in earlier and "<td>unfinished</td>" not in earlier


def test_status_reads_and_never_makes_a_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """No store yet where the settings or --store point: every source is said never
    crawled, and no store (nor folder) is made."""
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path / "data"))
    register = tmp_path / "sources"
    register.mkdir()
    (register / "a.yaml").write_text((REPO / "sources" / "demo-board.yaml").read_text())
    assert main(["crawl", "status", "--dir", str(register)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("no store at ") and out[1:] == ["demo-board: never crawled"]
    assert not (tmp_path / "data").exists()
    missing = tmp_path / "nowhere" / "s.sqlite3"
    assert main(["crawl", "status", "--store", str(missing), "--dir", str(register)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"no store at {missing} yet: nothing was crawled into it", "demo-board: never crawled"]
    assert not missing.parent.exists()
    assert main(["crawl", "status", "--store", str(missing), "--dir", str(register),
                 "--source", "demo-board"]) == 0  # in the register: never crawled
    assert capsys.readouterr().out.splitlines()[1:] == ["demo-board: never crawled"]
    assert main(["crawl", "status", "--store", str(missing), "--dir", str(register),
                 "--source", "nosuch"]) == 2
    assert "--source nosuch: no such source" in capsys.readouterr().err
