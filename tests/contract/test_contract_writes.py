"""Store contract: writes, versions, observations, removal and return, reads, export."""

from __future__ import annotations

from dataclasses import replace

import pytest
from contract_data import PHONE_A, SOURCES, at, enr, obs, seed

from indexer.model import ad_id_for
from indexer.search.parse import parse_args


def test_sources_are_registered_and_updated(store):
    for s in SOURCES:
        store.upsert_source(s)
    store.upsert_source(SOURCES[0].__class__(**{**SOURCES[0].__dict__, "name": "Alpha renamed"}))
    by_id = {s.id: s for s in store.sources()}
    assert set(by_id) == {"alpha", "beta", "gamma"}
    assert by_id["alpha"].name == "Alpha renamed"
    assert by_id["alpha"].reason == "public ads"
    assert by_id["beta"].country == "BE"


def test_same_capture_twice_changes_nothing(store):
    o = obs("alpha", "x1", at(1), "hello there")
    first = store.write(o, enr((PHONE_A,)))
    before = store.stats()
    again = store.write(o, enr((PHONE_A,)))
    assert first.new_ad and first.new_version and not first.duplicate_capture
    assert again.duplicate_capture and not again.new_ad and not again.new_version
    assert again.version_id == first.version_id
    assert store.stats() == before
    assert before["ads"] == 1 and before["versions"] == 1 and before["captures"] == 1


def test_equal_content_only_extends_last_seen(store):
    store.write(obs("alpha", "x1", at(1), "hello there"), enr())
    r = store.write(obs("alpha", "x1", at(2), "hello   there"), enr())  # whitespace only
    assert not r.new_version and not r.new_ad and not r.duplicate_capture
    ad = store.get_ad(r.ad_id)
    assert len(ad.versions) == 1
    v = ad.versions[0]
    assert v.first_seen == at(1) and v.last_seen == at(2)
    assert [c.fetched_at for c in v.captures] == [at(1), at(2)]
    assert ad.first_seen == at(1) and ad.last_seen == at(2)


def test_changed_content_makes_a_new_version_and_keeps_the_old(store):
    store.write(obs("alpha", "x1", at(1), "first text"), enr((PHONE_A,)))
    r = store.write(obs("alpha", "x1", at(2), "second text"), enr(lang="en"))
    assert r.new_version and not r.new_ad
    ad = store.get_ad(ad_id_for("alpha", "x1"))
    assert [v.seq for v in ad.versions] == [1, 2]
    assert [v.fields.text for v in ad.versions] == ["first text", "second text"]
    assert ad.versions[0].enrichment.phones[0].e164 == PHONE_A
    assert ad.versions[1].enrichment.language == "en"
    assert ad.current.id == r.version_id
    assert ad.versions[0].id != ad.versions[1].id


def test_content_that_returns_to_an_old_text_is_a_third_version(store):
    for day, text in ((1, "A"), (2, "B"), (3, "A")):
        store.write(obs("alpha", "x1", at(day), f"text {text}"), enr())
    ad = store.get_ad(ad_id_for("alpha", "x1"))
    assert [v.fields.text for v in ad.versions] == ["text A", "text B", "text A"]
    assert len({v.id for v in ad.versions}) == 3


def test_version_ids_are_deterministic_across_stores(store, tmp_path):
    from indexer.store.sqlite import SqliteStore

    other = SqliteStore(tmp_path / "other.sqlite3")
    try:
        for s in (store, other):
            s.write(obs("alpha", "x1", at(1), "one"), enr())
        a = store.write(obs("alpha", "x1", at(2), "two"), enr())
        b = other.write(obs("alpha", "x1", at(2), "two"), enr())
        assert a.version_id == b.version_id and a.ad_id == b.ad_id
    finally:
        other.close()


def test_removal_and_return(store):
    store.write(obs("alpha", "x1", at(1), "text"), enr())
    store.write(obs("alpha", "x2", at(1), "other"), enr())
    assert store.mark_removed("alpha", "x1", at(2), "gone from listing")
    assert not store.mark_removed("alpha", "x1", at(3), "again")  # already removed
    assert not store.mark_removed("alpha", "nope", at(3), "unknown")
    ad = store.get_ad(ad_id_for("alpha", "x1"))
    assert ad.removed_at == at(2) and ad.removed_reason == "gone from listing"
    assert [a.site_ad_id for a in store.live_ads("alpha")] == ["x2"]
    assert store.stats()["removed"] == 1
    back = store.write(obs("alpha", "x1", at(4), "text"), enr())
    assert back.reappeared and not back.new_version
    ad = store.get_ad(ad_id_for("alpha", "x1"))
    assert ad.removed_at is None and len(ad.versions) == 1
    assert ad.last_seen == at(4)
    assert sorted(a.site_ad_id for a in store.live_ads("alpha")) == ["x1", "x2"]


def test_a_removal_older_than_the_last_sighting_changes_nothing(store):
    """A spool replayed again (its first replay killed before it rewrote the spool)
    replays its removals too: one the ad's return overtook is stale, and neither removes
    the ad again nor opens another absence; a removal after the last sighting removes once."""
    store.write(obs("alpha", "x1", at(1), "text"), enr())
    assert store.mark_removed("alpha", "x1", at(2), "404")
    assert store.write(obs("alpha", "x1", at(3), "text"), enr()).reappeared
    store.write(obs("alpha", "x2", at(3), "other"), enr())
    before = store.stats()
    assert not store.mark_removed("alpha", "x1", at(2), "404")  # the same removal again
    assert not store.mark_removed("alpha", "x1", at(2, 18), "missing from the listings")
    assert not store.mark_removed("alpha", "x2", at(2), "404")  # never removed, seen since
    assert store.stats() == before
    ad = store.get_ad(ad_id_for("alpha", "x1"))
    assert ad.removed_at is None and ad.removed_reason == "" and ad.last_seen == at(3)
    assert [a.site_ad_id for a in store.live_ads("alpha")] == ["x1", "x2"]
    as_of_day4 = store.search(parse_args({"as_of": at(4).date().isoformat()}))
    assert as_of_day4.total == 2  # no absence open after the return
    assert store.mark_removed("alpha", "x1", at(4), "404")
    assert not store.mark_removed("alpha", "x1", at(4), "404")
    assert store.get_ad(ad_id_for("alpha", "x1")).removed_at == at(4)
    assert store.stats()["removed"] == 1


def test_a_capture_older_than_the_removal_joins_the_history_and_leaves_the_ad_removed(store):
    """A write that failed went to the spool, then the run's end removed the ad by
    absence; the next crawl replays the older capture: evidence of the time before the
    removal, not a return. A capture taken after the removal still brings the ad back."""
    store.write(obs("alpha", "x1", at(1), "text"), enr())
    store.write(obs("alpha", "x2", at(1), "first text"), enr())
    for ad in ("x1", "x2"):
        assert store.mark_removed("alpha", ad, at(2, 12, 30), "missing from the listings")
    same = store.write(obs("alpha", "x1", at(2), "text"), enr())
    changed = store.write(obs("alpha", "x2", at(2), "second text"), enr())
    assert not same.reappeared and not same.new_version and not same.duplicate_capture
    assert not changed.reappeared and changed.new_version
    for ad_id in (same.ad_id, changed.ad_id):
        ad = store.get_ad(ad_id)
        assert ad.removed_at == at(2, 12, 30) and ad.removed_reason == "missing from the listings"
        assert ad.last_seen == at(2)  # seen then, before the removal
    assert [c.fetched_at for c in store.get_ad(same.ad_id).versions[0].captures] == [at(1), at(2)]
    assert [v.fields.text for v in store.get_ad(changed.ad_id).versions] == ["first text",
                                                                             "second text"]
    assert store.live_ads("alpha") == [] and store.stats()["removed"] == 2
    assert status_counts(store) == {"removed": 2}
    back = store.write(obs("alpha", "x1", at(3), "text"), enr())
    assert back.reappeared and store.get_ad(back.ad_id).removed_at is None
    assert [a.site_ad_id for a in store.live_ads("alpha")] == ["x1"]


def test_the_ads_url_is_its_last_sightings(store):
    """A capture older than the ad's last sighting (a spool replayed after later crawls)
    joins the history in time order and moves neither the url nor last seen back."""
    first = obs("alpha", "x1", at(1), "text")
    moved = "http://alpha.test/ads/x1-moved"
    later = obs("alpha", "x1", at(3), "text")
    later = replace(later, url=moved, capture=replace(later.capture, url=moved))
    store.write(first, enr())
    store.write(later, enr())
    store.write(obs("alpha", "x1", at(2), "text"), enr())  # at the old url
    ad = store.get_ad(ad_id_for("alpha", "x1"))
    assert ad.url == moved and ad.last_seen == at(3)
    assert [c.fetched_at for c in ad.versions[0].captures] == [at(1), at(2), at(3)]
    assert [a.url for a in store.live_ads("alpha")] == [moved]


def test_get_ad_has_every_version_capture_and_enrichment(store):
    seed(store)
    store.write(obs("alpha", "a1", at(4), "Sweet girl, call now", "Lisa in Utrecht",
                    {"city": "Utrecht", "age": "21"}, images=("img1",)), enr((PHONE_A,), ("Utrecht",)))
    ad = store.get_ad(ad_id_for("alpha", "a1"))
    assert ad.source_id == "alpha" and ad.site_ad_id == "a1"
    assert ad.url == "http://alpha.test/ad/a1"
    assert len(ad.versions) == 2
    v1 = ad.versions[0]
    assert v1.fields.attributes == {"city": "Utrecht", "age": "21"}
    assert v1.fields.images[0].sha256 == "img1"
    assert {i.id for i in v1.enrichment.indicators} == {"new_in_town", "youth"}
    assert v1.enrichment.risk_score == 2.5
    assert v1.enrichment.places[0].province == "Utrecht"
    cap = v1.captures[0]
    assert cap.warc_file == "alpha/crawl.warc.gz" and cap.status == 200 and cap.fetched_at == at(1)
    assert store.get_ad("no-such-ad") is None


def test_iter_ads_exports_everything(store):
    seed(store)
    ads = list(store.iter_ads())
    assert len(ads) == 6 == store.stats()["ads"]
    assert {a.site_ad_id for a in ads} == {"a1", "a2", "a3", "b1", "b2", "g1"}
    assert all(a.versions and a.versions[0].captures for a in ads)


def test_hostile_text_is_stored_exactly(store):
    text = "<script>alert(1)</script> \ue000fake\ue001 ' OR 1=1 -- \x00"
    r = store.write(obs("alpha", "evil", at(1), text, title='"NEAR(x'), enr())
    ad = store.get_ad(r.ad_id)
    assert ad.versions[0].fields.text == text
    assert ad.versions[0].fields.title == '"NEAR(x'


class CutShort(Exception):
    """The write stopped part-way (a kill, a server gone)."""


def cut_next_write_short(store, monkeypatch, es_step: str = "_bulk") -> None:
    """Make the next write stop part-way, as a kill or a lost server would. SQLite: just
    before its commit (the transaction rolls back). Elasticsearch, which has none: at
    ``es_step``, the step's request never sent (``_bulk``: a write's follow-ups after its
    claim, or a removal's telling of the versions before its claim; ``_claim``: the claim)."""
    from indexer.store import sqlite_counts
    from indexer.store.sqlite import SqliteStore

    target, name = (sqlite_counts, "flush") if isinstance(store, SqliteStore) else (store, es_step)
    real = getattr(target, name)

    def cut(*args, **kwargs):
        monkeypatch.setattr(target, name, real)
        raise CutShort

    monkeypatch.setattr(target, name, cut)


def status_counts(store) -> dict[str, int]:
    """Current versions per status, as the search's status facet counts them."""
    [status] = [f for f in store.search(parse_args({})).facets if f.name == "status"]
    return {v.value: v.count for v in status.values}


@pytest.mark.parametrize("again", ["same capture", "next sighting"])
def test_a_new_version_cut_short_leaves_one_current_version_after_the_next_write(
        store, monkeypatch, again):
    store.write(obs("alpha", "x1", at(1), "first text"), enr())
    second = obs("alpha", "x1", at(2), "second text")
    cut_next_write_short(store, monkeypatch)
    with pytest.raises(CutShort):
        store.write(second, enr())
    # the spool writes the same capture again, or the next run fetches the page again
    store.write(second if again == "same capture" else obs("alpha", "x1", at(3), "second text"),
                enr())
    ad = store.get_ad(ad_id_for("alpha", "x1"))
    assert [v.fields.text for v in ad.versions] == ["first text", "second text"]
    assert store.search(parse_args({})).total == 1
    assert store.search(parse_args({"q": "first"})).total == 0  # the old version is closed
    assert store.search(parse_args({"q": "second"})).total == 1


def test_the_same_capture_written_again_reports_what_its_cut_write_did(store, monkeypatch):
    store.write(obs("alpha", "x1", at(1), "text"), enr())
    store.mark_removed("alpha", "x1", at(2), "404")
    back = obs("alpha", "x1", at(3), "text changed")
    cut_next_write_short(store, monkeypatch)
    with pytest.raises(CutShort):
        store.write(back, enr())
    again = store.write(back, enr())
    assert again.reappeared and again.new_version and not again.duplicate_capture
    assert [len(v.captures) for v in store.get_ad(again.ad_id).versions] == [1, 1]
    assert status_counts(store) == {"live": 1}
    assert store.write(back, enr()).duplicate_capture


def test_a_new_version_cut_short_then_removed_leaves_one_version_current(store, monkeypatch):
    store.write(obs("alpha", "x1", at(1), "first text"), enr())
    cut_next_write_short(store, monkeypatch)
    with pytest.raises(CutShort):
        store.write(obs("alpha", "x1", at(2), "second text"), enr())
    store.mark_removed("alpha", "x1", at(3), "gone from the listings")  # the next run
    assert status_counts(store) == {"removed": 1}
    # one text current: the second on Elasticsearch (its claim had landed), the first on
    # SQLite (the write rolled back)
    texts = [store.search(parse_args({"q": word})).total for word in ("first", "second")]
    assert sorted(texts) == [0, 1]


@pytest.mark.parametrize("es_step", ["_bulk", "_claim"])
def test_a_removal_cut_short_is_whole_after_the_next_removal_or_write(store, monkeypatch,
                                                                      es_step):
    if es_step == "_claim" and type(store).__name__ == "SqliteStore":
        pytest.skip("one transaction on SQLite: the _bulk run covers it")
    for ad in ("x1", "x2"):
        store.write(obs("alpha", ad, at(1), f"text of {ad}"), enr())
        cut_next_write_short(store, monkeypatch, es_step)
        with pytest.raises(CutShort):
            store.mark_removed("alpha", ad, at(2), "404")
    store.mark_removed("alpha", "x1", at(3), "404")  # x1: removed by the next run
    store.write(obs("alpha", "x2", at(3), "text of x2"), enr())  # x2: still there
    assert [a.site_ad_id for a in store.live_ads("alpha")] == ["x2"]
    assert store.get_ad(ad_id_for("alpha", "x1")).removed_at is not None
    assert status_counts(store) == {"live": 1, "removed": 1}
    [hit] = store.search(parse_args({"f.status": ["removed"]})).hits
    assert hit.ad_id == ad_id_for("alpha", "x1") and hit.removed_at is not None


def test_the_sections_that_listed_an_ad_are_kept_through_writes_and_removals(store):
    """note_listed only adds (an ad a site moves to another section belongs to both);
    a later write, a removal and a return keep them; unknown ads are passed over."""
    store.write(obs("alpha", "x1", at(1), "text one"), enr())
    store.write(obs("alpha", "x2", at(1), "text two"), enr())
    assert {a.site_ad_id: a.listed_in for a in store.live_ads("alpha")} == {"x1": (), "x2": ()}
    assert store.note_listed("alpha", {"x1": ["Utrecht"], "x2": ["Amsterdam"],
                                       "nope": ["Amsterdam"]}) == 2
    assert store.note_listed("alpha", {"x1": ["Utrecht"]}) == 0  # nothing new
    assert store.note_listed("alpha", {"x1": ["Amsterdam", "Utrecht"]}) == 1
    store.write(obs("alpha", "x1", at(2), "text one, changed"), enr())  # a new version
    store.mark_removed("alpha", "x2", at(3), "404")
    store.write(obs("alpha", "x2", at(4), "text two"), enr())  # back
    assert {a.site_ad_id: a.listed_in for a in store.live_ads("alpha")} == {
        "x1": ("Amsterdam", "Utrecht"), "x2": ("Amsterdam",)}
    assert store.note_listed("alpha", {}) == 0
    odd = ['["a, b", "x"]', "x\x1fy", ""]  # opaque to the store: kept as given
    assert store.note_listed("alpha", {"x2": odd}) == 1
    assert dict((a.site_ad_id, a.listed_in) for a in store.live_ads("alpha"))["x2"] == (
        "", "Amsterdam", '["a, b", "x"]', "x\x1fy")
    assert store.note_listed("beta", {"x1": ["Amsterdam"]}) == 0  # another source's id
