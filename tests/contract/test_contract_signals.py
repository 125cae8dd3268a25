"""Store contract: cross-ad signals (refresh_signals, signal: search and facet) and
replacing a version's enrichment (update_enrichment), the two things reindex relies on."""

from __future__ import annotations

from dataclasses import replace

import pytest
from contract_data import PHONE_A, SOURCES, at, enr, obs

from indexer.model import Attribute, ad_id_for
from indexer.search.parse import parse_args
from indexer.signals import (
    MANY_ADS,
    PHONE_CONSECUTIVE,
    PHONE_MANY_ADS,
    PHONE_MANY_NAMES,
    PHONE_MOVING,
)

NAMES = ("Lisa", "Mira", "Sara", "Nina", "Eva", "Ivy")


def find(store, **args):
    return store.search(parse_args(args))


def site_ids(result) -> set[str]:
    by_ad = {ad_id_for(s.id, f"n{i}"): f"n{i}" for s in SOURCES for i in range(20)}
    return {by_ad.get(h.ad_id, h.ad_id) for h in result.hits}


@pytest.fixture
def network(store):
    """MANY_ADS ads under one number with different names, one of them moving from
    Utrecht to Amsterdam; three consecutive numbers; one unrelated ad."""
    for s in SOURCES:
        store.upsert_source(s)
    for i in range(MANY_ADS):
        e = enr((PHONE_A,), ("Utrecht",))
        e = replace(e, attributes=(Attribute("name", NAMES[i]),))
        store.write(obs("alpha", f"n{i}", at(1, 9 + i), f"Hello, I am {NAMES[i]}"), e)
    store.write(obs("alpha", "n0", at(10), "Hello, I am Lisa, now in Amsterdam"),
                replace(enr((PHONE_A,), ("Amsterdam",)), attributes=(Attribute("name", "Lisa"),)))
    for i, phone in enumerate(("+31655500001", "+31655500002", "+31655500003")):
        store.write(obs("beta", f"n{10 + i}", at(2, 10 + i), f"Bulk ad {i}"), enr((phone,)))
    store.write(obs("gamma", "n19", at(2), "Unrelated ad"), enr(("+31699999999",)))
    return store


def test_refresh_returns_ads_per_signal(network) -> None:
    counts = network.refresh_signals()
    assert counts[PHONE_MANY_ADS] == MANY_ADS
    assert counts[PHONE_MANY_NAMES] == MANY_ADS
    assert counts[PHONE_MOVING] == MANY_ADS
    assert counts[PHONE_CONSECUTIVE] == 3


def test_signals_are_searchable_and_faceted(network) -> None:
    network.refresh_signals()
    result = find(network, q=f"signal:{PHONE_MANY_ADS}")
    assert site_ids(result) == {f"n{i}" for i in range(MANY_ADS)}
    assert site_ids(find(network, q=f"signal:{PHONE_CONSECUTIVE}")) == {"n10", "n11", "n12"}
    assert site_ids(find(network, q=f"-signal:{PHONE_MANY_ADS} site:gamma")) == {"n19"}
    facets = {f.name: f for f in find(network, **{"f.site": "beta"}).facets}
    facet = {f.name: f for f in network.search(
        replace(parse_args({}), facets=("signal",))).facets}["signal"]
    counts = {v.value: v.count for v in facet.values}
    assert counts[PHONE_MANY_ADS] == MANY_ADS and counts[PHONE_CONSECUTIVE] == 3
    assert "site" in facets  # the default facets still come back beside the new one
    chosen = network.search(replace(parse_args({"f.signal": PHONE_CONSECUTIVE}), facets=("signal",)))
    assert chosen.total == 3
    own = {v.value: v for v in chosen.facets[0].values}
    assert own[PHONE_CONSECUTIVE].selected and own[PHONE_MANY_ADS].count == MANY_ADS  # multi-select


def test_signal_reasons_explain_each_signal(network) -> None:
    network.refresh_signals()
    why = network.signal_reasons(ad_id_for("alpha", "n0"))
    assert set(why) >= {PHONE_MANY_ADS, PHONE_MANY_NAMES, PHONE_MOVING}
    assert any("Utrecht" in r and "Amsterdam" in r for r in why[PHONE_MOVING])
    assert network.signal_reasons(ad_id_for("gamma", "n19")) == {}


def test_refresh_clears_signals_that_no_longer_hold(network) -> None:
    network.refresh_signals()
    rec = network.get_ad(ad_id_for("beta", "n11"))
    assert network.update_enrichment(rec.versions[-1].id, enr(()))
    counts = network.refresh_signals()
    assert counts[PHONE_CONSECUTIVE] == 0
    assert find(network, q=f"signal:{PHONE_CONSECUTIVE}").total == 0


def test_update_enrichment_replaces_links_facets_and_risk(store) -> None:
    for s in SOURCES:
        store.upsert_source(s)
    w = store.write(obs("alpha", "u1", at(1), "Sweet girl new in town"),
                    enr((PHONE_A,), ("Utrecht",), (("new_in_town", 0.5),)))
    before = store.stats()
    new = replace(enr(("+31611122233",), ("Amsterdam",), (("youth", 2.0), ("trustworthy", 1.5))),
                  catalogue_version="test-2")
    assert store.update_enrichment(w.version_id, new) is True
    rec = store.get_ad(w.ad_id)
    assert len(rec.versions) == 1 and rec.versions[0].id == w.version_id
    assert rec.versions[0].enrichment.catalogue_version == "test-2"
    assert rec.versions[0].fingerprint == obs("alpha", "u1", at(1), "Sweet girl new in town").fields.fingerprint()
    assert store.stats() == before  # no version, capture or ad was added
    assert find(store, q="indicator:youth").total == 1
    assert find(store, q="indicator:new_in_town").total == 0
    assert find(store, q="city:amsterdam").total == 1 and find(store, q="city:utrecht").total == 0
    assert find(store, q="phone:0611122233").total == 1
    assert [h.ad_id for h in store.ads_for_identifier("phone", PHONE_A)] == []
    hit = find(store, q="girl").hits[0]
    assert hit.risk_score == 3.5 and set(hit.indicators) == {"youth", "trustworthy"}
    assert hit.phones == ("+31611122233",)


def test_update_enrichment_of_an_unknown_version_is_false(store) -> None:
    assert store.update_enrichment("no-such-version", enr()) is False


def test_the_same_capture_after_update_changes_nothing(store) -> None:
    for s in SOURCES:
        store.upsert_source(s)
    o = obs("alpha", "u2", at(1), "Text")
    w = store.write(o, enr((PHONE_A,)))
    store.update_enrichment(w.version_id, enr(("+31611122233",)))
    again = store.write(o, enr((PHONE_A,)))
    assert again.duplicate_capture and not again.new_version
    assert store.get_ad(w.ad_id).versions[0].enrichment.phones[0].e164 == "+31611122233"


def test_a_corrected_number_links_nothing_in_signals_or_after_reenrichment(network) -> None:
    """A number read wrongly must not make a network: corrections hold for both."""
    assert network.refresh_signals()[PHONE_MANY_ADS] == MANY_ADS
    wrong = ad_id_for("alpha", "n1")
    assert network.suppress_extraction(wrong, "phone", PHONE_A, "analyst", "misread digits")
    assert network.refresh_signals()[PHONE_MANY_ADS] == 0  # one ad short of the threshold
    version = network.get_ad(wrong).versions[-1].id
    assert network.update_enrichment(version, enr((PHONE_A,), ("Utrecht",)))
    assert wrong not in {h.ad_id for h in network.ads_for_identifier("phone", PHONE_A)}
    assert network.refresh_signals()[PHONE_MANY_ADS] == 0
