"""``adtrace reindex``: a real crawl of a small demo world into SQLite, then enrichment
rebuilt from the archive with the demo server stopped (so nothing is re-crawled).

- a catalogue with one more indicator makes that indicator searchable;
- ``--to`` a second SQLite file gives the same search answers, and a rerun resumes;
- a WARC file gone from the archive is reported by file@offset, never silently.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
import yaml

from adtrace.cli import main
from crawler.register import load_sources
from crawler.run import crawl
from demosite.data import NAMES
from demosite.server import DemoServer
from demosite.world import World
from indexer.search.parse import parse_args
from indexer.signals import SIGNALS
from indexer.store import open_store

REPO = Path(__file__).resolve().parents[2]
SITE_OF = {"demo-velvet": "velvet", "demo-board": "board"}
DAYS = 2
PROBE = "reindex_probe"
QUERIES = ("", "indicator:trust_language", "lang:en", "-lang:nl", "site:demo-board",
           "signal:phone_many_ads")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store and archive after two days of crawling; the server is gone afterwards."""
    root = tmp_path_factory.mktemp("crawled")
    world = World(seed=11, n_ads=24, days=DAYS)
    server = DemoServer(world, per_page=8).start()
    try:
        sources = [dataclasses.replace(s, base_url=f"{server.url}/{SITE_OF[s.id]}/")
                   for s in load_sources(REPO / "sources") if s.id in SITE_OF]
        for day in range(DAYS):
            server.set_day(day)
            clock = datetime.combine(world.date_of(day), time(9, 0), tzinfo=UTC)
            stats = crawl(sources, str(root / "adtrace.sqlite3"), root / "archive", clock=clock,
                          progress=False, settings={"DOWNLOAD_TIMEOUT": 15}, timeout=300)
            assert stats.total("errors") == 0, stats.lines()
    finally:
        server.stop()
    return root


@pytest.fixture
def install(crawled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the crawled installation, configured through the environment."""
    shutil.copytree(crawled, tmp_path / "data")
    data = tmp_path / "data"
    monkeypatch.setenv("ADTRACE_STORE", str(data / "adtrace.sqlite3"))
    monkeypatch.setenv("ADTRACE_ARCHIVE_DIR", str(data / "archive"))
    monkeypatch.setenv("ADTRACE_SOURCES_DIR", str(REPO / "sources"))
    return data


def probe_catalogue(tmp_path: Path, name: str) -> tuple[Path, str]:
    """The shipped catalogue plus one indicator that fires on an advertiser's name."""
    shipped = yaml.safe_load((REPO / "indexer/enrich/data/indicators.yaml").read_text(encoding="utf-8"))
    version = f"{shipped['version']}-probe"
    shipped["version"] = version
    shipped["indicators"].append({
        "id": PROBE, "label": {"nl": "Proef", "en": "Probe"}, "category": "test", "weight": 0.25,
        "evidence_level": "experimental", "explanation": "Added by the reindex test.",
        "patterns": {lang: [name.lower()] for lang in ("nl", "en", "de", "ro")},
    })
    path = tmp_path / "indicators-probe.yaml"
    path.write_text(yaml.safe_dump(shipped, allow_unicode=True), encoding="utf-8")
    return path, version


def a_name_in_the_ads(store) -> str:
    """A demo advertiser name that the current ads' text contains as a word."""
    texts = [h.title + " " + h.snippet.text for h in store.search(parse_args({"per_page": "200"})).hits]
    for name in NAMES:
        if any(re.search(rf"\b{name}\b", t) for t in texts):
            return name
    raise AssertionError("no demo name found in the crawled ads")


def answers(store, q: str) -> tuple[object, ...]:
    result = store.search(dataclasses.replace(
        parse_args({"q": q, "per_page": "200", "sort": "newest"}),
        facets=("site", "city", "phone", "indicator", "lang", "risk", "status", "signal")))
    hits = [(h.ad_id, h.version_id, h.risk_score, h.phones, h.indicators, h.places, h.removed_at)
            for h in result.hits]
    facets = [(f.name, [(v.value, v.count) for v in f.values]) for f in result.facets]
    return result.total, hits, facets


@pytest.mark.slow
def test_a_new_indicator_becomes_searchable_with_no_recrawl(install: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(str(install / "adtrace.sqlite3"))
    try:
        name = a_name_in_the_ads(store)
        before = store.stats()
        assert store.search(parse_args({"q": f"indicator:{PROBE}"})).total == 0
    finally:
        store.close()
    catalogue, version = probe_catalogue(tmp_path, name)

    assert main(["reindex", "--catalogue", str(catalogue), "--batch", "7"]) == 0
    out, err = capsys.readouterr()
    assert f"reindexed with catalogue {version}" in out and f"versions={before['versions']}" in out
    assert "note:" not in out  # today's selectors read from the archive what the store holds
    last = err.strip().splitlines()[-1]  # the progress bar's final line
    assert f"{before['versions']}/{before['versions']} versions" in last and "/s ETA" in last

    store = open_store(str(install / "adtrace.sqlite3"))
    try:
        assert store.stats() == before  # no version, capture or ad added: enrichment replaced
        found = store.search(parse_args({"q": f"indicator:{PROBE}", "per_page": "200"}))
        assert found.total > 0
        for hit in found.hits:
            stored = next(v for v in store.get_ad(hit.ad_id).versions if v.id == hit.version_id)
            probe = next(i for i in stored.enrichment.indicators if i.id == PROBE)
            doc = stored.fields.document()
            assert all(doc[s.start:s.end].lower() == name.lower() for s in probe.spans)
        assert {v.enrichment.catalogue_version for ad in store.iter_ads() for v in ad.versions} == {version}
    finally:
        store.close()


@pytest.mark.slow
def test_reindex_to_a_second_store_gives_identical_answers(install: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "moved.sqlite3"
    assert main(["reindex", "--to", str(target), "--batch", "10"]) == 0
    first = capsys.readouterr().out
    assert "written=" in first and "skipped_captures=0" in first

    old, new = open_store(str(install / "adtrace.sqlite3")), open_store(str(target))
    try:
        old.refresh_signals()  # the crawl stored ads; signals are computed over them all
        assert new.stats() == old.stats()
        for q in QUERIES:
            assert answers(new, q) == answers(old, q), q
        day0 = min(ad.first_seen for ad in old.iter_ads()).date().isoformat()
        as_of = {"as_of": day0, "per_page": "200"}
        assert [h.version_id for h in new.search(parse_args(as_of)).hits] == \
               [h.version_id for h in old.search(parse_args(as_of)).hits]
        captures = old.stats()["captures"]
    finally:
        old.close()
        new.close()

    assert main(["reindex", "--to", str(target)]) == 0  # a rerun resumes: nothing to write
    again = capsys.readouterr().out
    assert "written=0" in again and f"already={captures}" in again


@pytest.mark.slow
def test_a_missing_warc_file_is_reported_and_skipped(install: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(str(install / "adtrace.sqlite3"))
    try:
        ad = next(store.iter_ads())
        cap = ad.versions[0].captures[0]
    finally:
        store.close()
    (install / "archive" / cap.warc_file).unlink()

    assert main(["reindex", "--to", str(tmp_path / "moved.sqlite3")]) == 1
    out, err = capsys.readouterr()
    assert f"skipped: {cap.warc_file}@{cap.warc_offset}" in err
    assert "skipped_captures=0" not in out

    assert main(["reindex"]) == 1  # in place: the version is still re-enriched, and said so
    out, err = capsys.readouterr()
    assert f"{cap.warc_file}@{cap.warc_offset}" in err
    assert "re-enriched from its stored fields" in out


def test_without_source_files_stored_fields_are_re_enriched(install: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "no-sources").mkdir()
    assert main(["reindex", "--sources", str(tmp_path / "no-sources")]) == 0
    out = capsys.readouterr().out
    assert "no source file" in out and "re-enriched from their stored fields" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["reindex", "--batch", "0"], "--batch 0"),
    (["reindex", "--catalogue", "/nonexistent/cat.yaml"], "/nonexistent/cat.yaml"),
    (["reindex", "--archive", "/nonexistent/archive"], "/nonexistent/archive"),
])
def test_bad_input_names_itself(install: Path, argv: list[str], message: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_to_the_same_store_is_refused(install: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reindex", "--to", str(install / "adtrace.sqlite3")]) == 2
    assert "is the store being reindexed" in capsys.readouterr().err


def test_reindex_refuses_until_an_interrupted_purge_is_finished(install: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Reindex reads the archive under its lock (indexer.archive.lock): a purge killed
    halfway left the archive's places moved, so it must be finished first."""
    from indexer.archive.lock import JOURNAL, hold_alone, release

    (install / "archive" / JOURNAL).write_text('{"swaps": [], "moves": {}, "dropped": []}')
    assert main(["reindex"]) == 2
    assert "a purge was interrupted" in capsys.readouterr().err
    (install / "archive" / JOURNAL).unlink()
    assert main(["reindex"]) == 0  # and while it ran, it held the lock: now free again
    release(hold_alone(install / "archive"))


def test_signals_command_refreshes_and_explains(install: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["signals"]) == 0
    rows = dict(line.split("\t")[:2] for line in capsys.readouterr().out.splitlines())
    assert set(rows) == set(SIGNALS) and all(v.isdigit() for v in rows.values())
    store = open_store(str(install / "adtrace.sqlite3"))
    try:
        flagged = store.search(parse_args({"f.signal": next(s for s, n in rows.items() if int(n))}))
        ad_id = flagged.hits[0].ad_id
    finally:
        store.close()
    assert main(["signals", "--ad", ad_id]) == 0
    assert capsys.readouterr().out.split("\t")[0] in SIGNALS
