"""SqliteStore beyond the shared contract: files, threads, batches, time limits, errors."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from contract_data import PHONE_A, SOURCES, at, enr, obs, seed

from indexer.search.parse import parse_args
from indexer.store import StoreError, open_store
from indexer.store.sqlite import SqliteStore
from indexer.store.sqlite_schema import SCHEMA_VERSION


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "db" / "adtrace.sqlite3")
    yield s
    s.close()


def test_file_is_wal_and_survives_reopening(tmp_path):
    path = tmp_path / "adtrace.sqlite3"
    s = SqliteStore(path)
    seed(s)
    s.close()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    again = SqliteStore(path)
    try:
        assert again.stats() == {"ads": 6, "versions": 6, "captures": 6, "removed": 0, "sources": 3}
        assert again.search(parse_args({"q": "girl"})).total == 2
    finally:
        again.close()


def test_open_store_picks_the_backend_from_the_url(tmp_path):
    s = open_store(str(tmp_path / "x.sqlite3"))
    assert isinstance(s, SqliteStore)
    s.close()
    s = open_store(f"sqlite:///{tmp_path / 'y.sqlite3'}")
    assert isinstance(s, SqliteStore) and s.path.endswith("y.sqlite3")
    s.close()
    with pytest.raises(StoreError, match="ftp://x"):
        open_store("ftp://x")
    with pytest.raises(StoreError, match="ADTRACE_STORE"):
        open_store("")


def test_a_file_that_is_not_a_database_is_refused_by_name(tmp_path):
    bad = tmp_path / "notes.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="notes.sqlite3"):
        SqliteStore(bad)


def test_closed_store_says_so(tmp_path):
    s = SqliteStore(tmp_path / "c.sqlite3")
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.stats()


def test_write_many_is_one_transaction_all_or_nothing(store):
    for src in SOURCES:
        store.upsert_source(src)
    items = [(obs("alpha", f"m{i}", at(1, minute=i), f"text {i}"), enr()) for i in range(50)]
    results = store.write_many(items)
    assert sum(r.new_ad for r in results) == 50
    broken = [(obs("alpha", "n1", at(2), "fine"), enr()), (obs("alpha", "n2", at(3), "x"), None)]
    with pytest.raises(AttributeError):
        store.write_many(broken)  # type: ignore[arg-type]
    assert store.stats()["ads"] == 50  # n1 was rolled back with the broken batch


def test_threads_never_share_a_connection_and_none_are_left_behind(store):
    seed(store)
    errors: list[BaseException] = []

    def reader():
        try:
            for _ in range(20):
                assert store.search(parse_args({"q": "girl"})).total >= 2
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def writer():
        try:
            for i in range(40):
                store.write(obs("alpha", f"t{i}", at(4, minute=i), f"girl thread {i}"), enr())
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    opened = len(store._all)
    assert 1 <= opened <= 4  # at most one per thread working at the same time
    assert store.search(parse_args({"q": "girl"})).total == 42
    for _ in range(10):  # one short-lived thread per request, as Werkzeug does
        t = threading.Thread(target=reader)
        t.start()
        t.join()
    assert errors == [] and len(store._all) == opened


def test_an_export_in_progress_does_not_block_other_calls(store):
    seed(store)
    ads = store.iter_ads()
    first = next(ads)
    assert store.stats()["ads"] == 6  # another connection serves this meanwhile
    assert 1 + sum(1 for _ in ads) == 6 and first.versions


def test_a_slow_facet_times_out_and_the_page_still_renders(tmp_path):
    s = SqliteStore(tmp_path / "slow.sqlite3", facet_time_limit_ms=0)
    try:
        s.write_many([(obs("alpha", f"s{i}", at(1, minute=i % 60), f"girl {i}"),
                       enr((f"+3161234{i:04d}",), ("Utrecht",))) for i in range(400)])
        r = s.search(parse_args({"q": "girl", "f.city": "Utrecht"}))
        assert r.total == 400 and len(r.hits) == 20
        timed = {f.name: f for f in r.facets if f.timed_out}
        assert "phone" in timed
        # the selection is still listed so the analyst can switch it off
        city = next(f for f in r.facets if f.name == "city")
        assert city.timed_out and [(v.value, v.selected) for v in city.values] == [("Utrecht", True)]
    finally:
        s.close()


def test_fts_syntax_in_typed_text_never_crashes(store):
    seed(store)
    for text in ['NEAR(a b)', 'girl AND', '"*"', "title:girl", 'a NOT b', "^girl", "x)(", "-"]:
        try:
            store.search(parse_args({"q": text}))
        except Exception as exc:  # a QueryError is fine, an sqlite error is not
            assert type(exc).__name__ == "QueryError", (text, exc)


def test_phone_entities_link_across_sources(store):
    seed(store)
    assert {h.source_id for h in store.ads_for_identifier("phone", "06 12 34 56 78")} == {"alpha", "beta"}
    assert store.ads_for_identifier("phone", PHONE_A)[0].phones == (PHONE_A,)


def test_write_many_applies_captures_in_time_order(store):
    late, early = obs("alpha", "o1", at(2), "second text"), obs("alpha", "o1", at(1), "first text")
    results = store.write_many([(late, enr()), (early, enr())])
    assert [r.new_ad for r in results] == [False, True]  # results in the order given
    ad = store.get_ad(results[0].ad_id)
    assert [v.fields.text for v in ad.versions] == ["first text", "second text"]


def test_counts_are_reused_for_other_pages_and_renewed_after_any_write(tmp_path):
    path = tmp_path / "cache.sqlite3"
    reader, writer = SqliteStore(path), SqliteStore(path)  # like the web UI and a crawler
    try:
        seed(writer)
        first = reader.search(parse_args({"per_page": "2"}))
        second = reader.search(parse_args({"per_page": "2", "page": "2", "sort": "oldest"}))
        assert second.total == first.total == 6 and second.facets == first.facets
        assert len(second.hits) == 2
        writer.write(obs("gamma", "new", at(9), "fresh ad"), enr())
        after = reader.search(parse_args({"per_page": "2"}))
        assert after.total == 7
        assert dict((v.value, v.count) for v in after.facets[0].values)["gamma"] == 2
    finally:
        reader.close()
        writer.close()


def test_a_database_from_a_newer_adtrace_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema version 99"):
        SqliteStore(path)


def test_a_store_from_schema_version_1_gains_the_newer_tables_on_open(tmp_path):
    path = tmp_path / "v1.sqlite3"
    s = SqliteStore(path)
    seed(s)
    photo = "c" * 64
    for site_ad_id in ("p1", "p2"):  # one photo in two ads: linked once the index exists
        s.write(obs("alpha", site_ad_id, at(30), f"photo ad {site_ad_id}", images=(photo,)),
                enr())
    s.close()
    conn = sqlite3.connect(path, isolation_level=None)
    for table in ("holds", "signal_reasons", "crawl_runs", "version_images", "source_history",
                  "ad_listings"):
        conn.execute(f"DROP TABLE {table}")  # as a database made before those features
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.close()
    s = SqliteStore(path)
    try:
        assert s.holds() == [] and s.crawl_runs() == []
        assert s.signal_reasons("nope") == {}
        assert s.stats()["ads"] == 8
        assert len(s.ads_for_identifier("image", photo)) == 2  # back-filled by the upgrade
        s.refresh_signals()  # writes the signal tables the upgrade made
        assert {a.listed_in for a in s.live_ads("alpha")} == {()}  # sections not known yet
        assert s.note_listed("alpha", {"p1": ["Amsterdam"]}) == 1
        assert [a.listed_in for a in s.live_ads("alpha") if a.site_ad_id == "p1"] == [
            ("Amsterdam",)]
    finally:
        s.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    conn.close()


def test_memory_databases_are_refused():
    with pytest.raises(StoreError, match="file path"):
        SqliteStore(":memory:")


def test_a_write_the_database_refuses_names_the_ad_and_loses_nothing(store, tmp_path):
    seed(store)
    other = sqlite3.connect(store.path, timeout=0.1)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    store_busy = SqliteStore(store.path)  # opening an existing store only reads
    assert store_busy.stats()["ads"] == 6  # and so does reading under WAL
    with store_busy._borrow() as conn:
        conn.execute("PRAGMA busy_timeout=50")
    try:
        with pytest.raises(StoreError, match="http://alpha.test/ad/late"):
            store_busy.write(obs("alpha", "late", at(5), "late text"), enr())
    finally:
        other.rollback()
        other.close()
    assert store_busy.write(obs("alpha", "late", at(5), "late text"), enr()).new_ad
    assert store.stats()["ads"] == 7
    store_busy.close()


def test_a_purge_leaves_no_sections_of_the_ads_it_deleted(tmp_path):
    """ad_listings rows go with their ad (a rowid SQLite may give a later ad again)."""
    path = tmp_path / "s.sqlite3"
    with SqliteStore(path) as s:
        s.write(obs("alpha", "a1", at(1), "old ad"), enr())
        s.write(obs("alpha", "a2", at(20), "new ad"), enr())
        assert s.note_listed("alpha", {"a1": ["Utrecht"], "a2": ["Amsterdam"]}) == 2
        s.purge("alpha", at(10))
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT a.site_ad_id, l.section FROM ad_listings l "
                            "LEFT JOIN ads a ON a.rowid = l.ad_rowid").fetchall() == [
            ("a2", "Amsterdam")]
    finally:
        conn.close()
