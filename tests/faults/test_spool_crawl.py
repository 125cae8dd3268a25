"""Faults: a crawl with the store down keeps its captures in the archive and the spool,
and the spool is replayed when the store is back (by the next crawl or the CLI)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from fixture_site import SOURCE_YAML, FixtureSite

from adtrace.cli import main
from indexer.archive import archive_verify
from indexer.archive.index import CaptureIndex
from indexer.model import SourceInfo, ad_id_for
from indexer.spool import Spool
from indexer.store import open_store


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the block ends: nothing listens there


def _sources(tmp_path: Path, site: FixtureSite) -> Path:
    d = tmp_path / "sources"
    d.mkdir()
    (d / "fixture.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
    return d


def _ads(store_path: Path) -> set[str]:
    store = open_store(str(store_path))
    try:
        return {a.id for a in store.iter_ads()}
    finally:
        store.close()


def test_corrupt_sqlite_spools_then_next_crawl_replays(site: FixtureSite, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    sources, archive = _sources(tmp_path, site), tmp_path / "data" / "archive"
    store = tmp_path / "data" / "s.sqlite3"
    store.parent.mkdir()
    store.write_bytes(b"this is not a database, it is a damaged file" * 100)
    args = ["crawl", "--dir", str(sources), "--store", str(store), "--archive", str(archive),
            "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out  # the run that could not read its known ads says so
    assert "errors=2 (http 1, other 1)" in out, out
    assert " ads_seen=3 " in out and " spooled=3 " in out, out  # seen, kept in the spool
    spool = Spool(tmp_path / "data" / "spool.jsonl")
    kinds = [json.loads(line)["kind"] for line in spool.lines()]
    assert kinds.count("obs") == 3 and kinds[0] == "source"
    assert len(CaptureIndex(archive).entries()) >= 3  # every page is evidence already
    assert archive_verify(archive).ok

    store.unlink()  # the backend is back (an empty, working store)
    site.requests.clear()
    assert main(args) == 0
    capsys.readouterr()
    assert len(spool) == 0, "the next crawl replayed the spool"
    assert {ad_id_for("fixture-site", s) for s in ("1", "2", "3")} <= _ads(store)


def test_closed_elasticsearch_port_spools_and_cli_replays(site: FixtureSite, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    sources, data = _sources(tmp_path, site), tmp_path / "data"
    archive = data / "archive"
    es = f"http://127.0.0.1:{_closed_port()}"
    args = ["crawl", "--dir", str(sources), "--store", es, "--archive", str(archive), "--quiet"]
    assert main(args) == 0
    capsys.readouterr()
    spool = Spool(data / "spool.jsonl")
    assert [json.loads(line)["kind"] for line in spool.lines()].count("obs") == 3
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(data))
    # still down: the replay keeps every line and says why
    monkeypatch.setenv("ADTRACE_STORE", es)
    assert main(["spool", "replay"]) == 2
    assert "127.0.0.1" in capsys.readouterr().err
    lines = len(spool)
    # back (here: the embedded store stands in for the recovered backend)
    monkeypatch.setenv("ADTRACE_STORE", str(data / "s.sqlite3"))
    assert main(["spool", "replay"]) == 0
    out, err = capsys.readouterr()
    assert f"replayed {lines}, left 0" in out
    assert f"spool replay [{'#' * 24}] {lines}/{lines} lines" in err, err  # its progress
    assert len(_ads(data / "s.sqlite3")) == 3
    assert main(["spool", "replay"]) == 0  # nothing left: a no-op


def test_damaged_lines_are_moved_aside_and_a_file_with_no_record_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from indexer.ingest import Ingestor
    from indexer.spool import NotASpool
    from indexer.store.base import StoreError
    from indexer.store.sqlite import SqliteStore

    spool = Spool(tmp_path / "spool.jsonl")
    spool.add_source(SourceInfo("alpha", "Alpha", "trafficking", "NL", "http://a.test"))
    damaged = b'{"kind": "nonsense"}\n{broken\n\xff\xfe not utf-8\n{"kind": "obs", "obs": {}}\n'
    with open(spool.path, "ab") as fh:
        fh.write(damaged)
    store = SqliteStore(tmp_path / "s.sqlite3")
    result = spool.replay(Ingestor(store, enricher=object()))
    assert (result.replayed, result.damaged, result.left) == (1, 4, 0)
    assert not spool.path.exists()
    assert spool.damaged_path.read_bytes() == damaged  # kept byte for byte, never dropped
    store.close()
    with pytest.raises(StoreError):
        store.sources()

    # a file named by mistake (the archive's capture index) is refused, left as it was
    index = tmp_path / "captures.jsonl"
    index.write_text('{"id": "c1", "url": "http://a.test/1"}\n', encoding="utf-8")
    with pytest.raises(NotASpool):
        Spool(index).replay(Ingestor(SqliteStore(tmp_path / "t.sqlite3"), enricher=object()),
                            named=True)
    monkeypatch.setenv("ADTRACE_STORE", str(tmp_path / "t.sqlite3"))
    assert main(["spool", "replay", "--spool", str(index)]) == 2
    assert "no line is a spool record" in capsys.readouterr().err
    assert index.read_text(encoding="utf-8") == '{"id": "c1", "url": "http://a.test/1"}\n'
    assert main(["spool", "replay", "--spool", str(tmp_path)]) == 2
