"""Assessments: kept as history, the newest counts, a search facet and filter in every backend."""

from __future__ import annotations

from dataclasses import replace

import pytest
from contract_data import SOURCES, at, enr, obs

from indexer.model import ad_id_for
from indexer.search.parse import parse_args
from indexer.search.query import DEFAULT_FACETS


def _two_ads(store) -> tuple[str, str]:
    for s in SOURCES:
        store.upsert_source(s)
    store.write(obs("alpha", "1", at(1), "Anna in Utrecht"), enr(places=("Utrecht",)))
    store.write(obs("alpha", "2", at(1), "Bella in Utrecht"), enr(places=("Utrecht",)))
    return ad_id_for("alpha", "1"), ad_id_for("alpha", "2")


def _facet(result, name: str) -> dict[str, int]:
    facet = next(f for f in result.facets if f.name == name)
    return {v.value: v.count for v in facet.values}


def test_history_is_kept_newest_first_and_the_newest_counts(store):
    anna, bella = _two_ads(store)
    store.set_assessment(anna, "ann", "unsure", "  check the photos  ", at=at(2))
    store.set_assessment(anna, "bob", "yes", "same phone as case 12", at=at(3))
    store.set_assessment(bella, "ann", "no", "", at=at(2))
    history = store.assessments(anna)
    assert [(a.user, a.label) for a in history] == [("bob", "yes"), ("ann", "unsure")]
    assert history[1].note == "check the photos"  # trimmed
    assert history[0].at == at(3)
    assert store.assessments(ad_id_for("alpha", "99")) == []

    query = parse_args({"f.assessment": ["yes"]})
    facets = (*DEFAULT_FACETS, "assessment")
    result = store.search(replace(query, facets=facets))
    assert [h.ad_id for h in result.hits] == [anna]
    # multi-select: the facet's own selection does not narrow its own counts
    assert _facet(result, "assessment") == {"yes": 1, "no": 1}

    store.set_assessment(anna, "cem", "no", "re-checked: a different number", at=at(4))
    result = store.search(replace(parse_args({}), facets=facets))
    assert _facet(result, "assessment") == {"no": 2}
    assert store.search(parse_args({"f.assessment": ["yes"]})).total == 0


def test_export_lists_every_judgement_oldest_first(store):
    anna, bella = _two_ads(store)
    store.set_assessment(bella, "ann", "no", "", at=at(2))
    store.set_assessment(anna, "ann", "yes", "note", at=at(3))
    got = [(a.ad_id, a.label, a.to_json()["at"]) for a in store.iter_assessments()]
    assert got == [(bella, "no", "2026-03-03T12:00:00.000000Z"),
                   (anna, "yes", "2026-03-04T12:00:00.000000Z")]


def test_bad_input_is_refused_and_nothing_is_stored(store):
    anna, _ = _two_ads(store)
    with pytest.raises(ValueError, match="maybe"):
        store.set_assessment(anna, "ann", "maybe", "")
    with pytest.raises(ValueError, match="at most"):
        store.set_assessment(anna, "ann", "yes", "x" * 5000)
    with pytest.raises(KeyError, match="nope"):
        store.set_assessment("nope", "ann", "yes", "")
    assert store.assessments(anna) == []
    assert list(store.iter_assessments()) == []


def test_a_new_version_keeps_the_ads_label(store):
    anna, _ = _two_ads(store)
    store.set_assessment(anna, "ann", "yes", "", at=at(2))
    store.write(obs("alpha", "1", at(5), "Anna moved to Amsterdam"), enr(places=("Amsterdam",)))
    assert store.get_ad(anna).versions[-1].fields.text == "Anna moved to Amsterdam"
    assert [h.ad_id for h in store.search(parse_args({"f.assessment": ["yes"]})).hits] == [anna]


def test_ads_sharing_a_photo_are_found_by_its_hash(store):
    for s in SOURCES:
        store.upsert_source(s)
    photo, other = "a" * 64, "b" * 64
    store.write(obs("alpha", "1", at(1), "Anna", images=(photo,)), enr())
    store.write(obs("beta", "7", at(2), "Nina", images=(other, photo)), enr())
    store.write(obs("gamma", "3", at(2), "Zoe", images=(other,)), enr())
    found = [h.ad_id for h in store.ads_for_identifier("image", photo)]
    assert sorted(found) == sorted([ad_id_for("alpha", "1"), ad_id_for("beta", "7")])
    store.write(obs("gamma", "3", at(3), "Zoe again", images=(photo,)), enr())  # a later version
    assert len(store.ads_for_identifier("image", photo)) == 3
    assert store.ads_for_identifier("image", "c" * 64) == []
    three = {ad_id_for("alpha", "1"), ad_id_for("beta", "7"), ad_id_for("gamma", "3")}
    assert set(store.ads_showing_image(photo)) == three
    assert set(store.ads_showing_image(photo.upper())) == three
    shown = store.ads_showing_image(photo, limit=2)
    assert len(shown) == 2 and set(shown) <= three
    assert store.ads_showing_image("c" * 64) == []
    assert store.ads_showing_image(photo, themes=("other",)) == [ad_id_for("gamma", "3")]
    assert set(store.ads_showing_image(photo, themes=("trafficking",))) == three - {
        ad_id_for("gamma", "3")}
    assert store.ads_showing_image(photo, themes=()) == []
