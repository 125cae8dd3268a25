"""Contract: retention purge, legal holds and capture relocation, in every backend."""

from __future__ import annotations

from contract_data import SOURCES, at, enr, obs

from indexer.search.parse import parse_args

IMG_OLD = "a" * 64
IMG_SHARED = "b" * 64


def _seed(store) -> None:
    for s in SOURCES:
        store.upsert_source(s)
    w = store.write
    # old1: only old captures → goes whole; its image is shown nowhere else
    w(obs("alpha", "old1", at(1), "old text zebra", images=(IMG_OLD, IMG_SHARED)), enr())
    w(obs("alpha", "old1", at(2), "old text zebra", images=(IMG_OLD, IMG_SHARED)), enr())
    # mixed: version 1 old, version 2 new → version 1 goes, the ad stays
    w(obs("alpha", "mixed", at(1), "first words giraffe"), enr())
    w(obs("alpha", "mixed", at(20), "second words okapi", images=(IMG_SHARED,)), enr())
    # span: one version with an old and a new capture → the old capture goes only
    w(obs("alpha", "span", at(2), "lasting text"), enr())
    w(obs("alpha", "span", at(21), "lasting text"), enr())
    # held: old, but under legal hold
    w(obs("alpha", "held", at(1), "held text walrus"), enr())
    # another source, old: untouched by a purge of alpha
    w(obs("beta", "other", at(1), "beta text"), enr())


def _ad(source: str, site_id: str) -> str:
    from indexer.model import ad_id_for

    return ad_id_for(source, site_id)


def test_purge_removes_captures_then_versions_then_ads(store) -> None:
    _seed(store)
    assert store.set_hold(_ad("alpha", "held"), "case 2026-17", "officer", at(3))
    before = store.stats()
    cut = at(10)
    dry = store.purge("alpha", cut, dry_run=True)
    assert store.stats() == before, "a dry run changes nothing"
    real = store.purge("alpha", cut)
    for r in (dry, real):
        assert len(r.captures) == 4  # old1 ×2, mixed v1, span's first
        assert (r.versions, r.ads) == (2, 1)
        assert r.ad_ids == (_ad("alpha", "old1"),)
        assert r.images == (IMG_OLD,)  # IMG_SHARED is still on mixed v2
        assert r.held == 1
    assert store.get_ad(_ad("alpha", "old1")) is None
    mixed = store.get_ad(_ad("alpha", "mixed"))
    assert [v.fields.text for v in mixed.versions] == ["second words okapi"]
    assert mixed.first_seen == at(20)
    span = store.get_ad(_ad("alpha", "span"))
    assert [c.fetched_at for c in span.versions[0].captures] == [at(21)]
    assert span.versions[0].first_seen == at(21)
    assert store.get_ad(_ad("alpha", "held")) is not None
    assert store.get_ad(_ad("beta", "other")) is not None
    assert store.search(parse_args({"q": "zebra"})).total == 0
    assert store.search(parse_args({"q": "giraffe"})).total == 0
    assert store.search(parse_args({"q": "okapi"})).total == 1
    after = store.stats()
    assert after["ads"] == before["ads"] - 1
    assert after["captures"] == before["captures"] - 4


def test_purge_twice_changes_nothing_more(store) -> None:
    _seed(store)
    store.purge("alpha", at(10))
    stats = store.stats()
    again = store.purge("alpha", at(10))
    assert (len(again.captures), again.versions, again.ads, again.held) == (0, 0, 0, 0)
    assert store.stats() == stats


def test_wipe_source_removes_everything_but_holds(store) -> None:
    _seed(store)
    store.set_hold(_ad("alpha", "mixed"), "court order", "admin", at(3))
    result = store.purge("alpha", None)
    assert result.held == 1
    assert store.get_ad(_ad("alpha", "mixed")) is not None
    left = {a.source_id for a in store.iter_ads()}
    assert left == {"alpha", "beta"}
    assert [a.id for a in store.iter_ads() if a.source_id == "alpha"] == [_ad("alpha", "mixed")]
    assert IMG_OLD in result.images and IMG_SHARED not in result.images


def test_holds_are_listed_and_released(store) -> None:
    _seed(store)
    ad = _ad("alpha", "held")
    assert store.holds() == []
    assert store.set_hold(ad, "case", "officer", at(3))
    assert not store.set_hold(ad, "again", "other", at(4))
    [hold] = store.holds()
    assert (hold.ad_id, hold.reason, hold.held_by, hold.held_at) == (ad, "case", "officer", at(3))
    assert store.release_hold(ad)
    assert not store.release_hold(ad)
    assert store.holds() == []


def test_relocate_is_by_capture_id_and_idempotent(store) -> None:
    _seed(store)
    ad = store.get_ad(_ad("alpha", "span"))
    first, second = ad.versions[0].captures
    moves = {first.id: ("warcs/new.warc.gz", second.warc_offset, 7),
             second.id: ("warcs/new.warc.gz", first.warc_offset, 9)}
    assert store.relocate_captures(moves) == 2
    assert store.relocate_captures(moves) == 2
    got = {c.id: (c.warc_file, c.warc_offset, c.warc_length)
           for c in store.get_ad(_ad("alpha", "span")).versions[0].captures}
    assert got == moves
    assert store.relocate_captures({"no-such-capture": ("x", 1, 1)}) == 0


def test_purge_takes_judgements_and_corrections_of_purged_ads_with_them(store) -> None:
    _seed(store)
    gone, kept = _ad("alpha", "old1"), _ad("alpha", "mixed")
    phone = "+31612345678"
    store.write(obs("alpha", "old1", at(3), "old text zebra, now with a number"),
                enr(phones=(phone,)))
    assert store.suppress_extraction(gone, "phone", phone, "analyst", "misread", at(4))
    assert len(store.suppressions(gone)) == 1
    for ad_id in (gone, kept):
        store.set_assessment(ad_id, "analyst", "unsure", "check later", at(22))
    store.purge("alpha", at(10))
    assert store.assessments(gone) == []
    assert [a.label for a in store.assessments(kept)] == ["unsure"]
    assert store.suppressions(gone) == []

