"""Identifier summaries and corrected extractions: the same answers from every backend.

A number misread in one ad must stop linking that ad everywhere (identifier links,
facets, phone: search, summaries) while the enrichment — the evidence — stays intact.
"""

from __future__ import annotations

import pytest
from contract_data import SOURCES, at, obs

from indexer.model import Attribute, Enrichment, Identifier, Phone, ad_id_for
from indexer.search.parse import parse_text
from indexer.search.query import Query

P1, P2, P3 = "+31611111111", "+31622222222", "+31633333333"
EMAIL = "lisa@example.test"


def _enr(phones: tuple[str, ...], places: tuple[str, ...] = (), names: tuple[str, ...] = (),
         emails: tuple[str, ...] = ()) -> Enrichment:
    from contract_data import PLACES

    return Enrichment(
        phones=tuple(Phone(p, p, "NL") for p in phones),
        identifiers=tuple(Identifier("email", e, e) for e in emails),
        places=tuple(PLACES[p] for p in places),
        attributes=tuple(Attribute("name", n) for n in names),
        language="en")


def _seed(store) -> dict[str, str]:  # type: ignore[no-untyped-def]
    for s in SOURCES:
        store.upsert_source(s)
    w = store.write
    # x1 moves from Utrecht to Amsterdam with the same number; a second number beside it.
    w(obs("alpha", "x1", at(1), "Lisa new here", "Lisa"), _enr((P1, P2), ("Utrecht",), ("Lisa",)))
    w(obs("alpha", "x1", at(2), "Lisa new here", "Lisa"), _enr((P1, P2), ("Utrecht",), ("Lisa",)))
    w(obs("alpha", "x1", at(5), "Lisa now in Amsterdam", "Lisa"),
      _enr((P1,), ("Amsterdam",), ("Lisa",), (EMAIL,)))
    w(obs("beta", "x2", at(3), "Nina in Antwerpen", "Nina"), _enr((P1,), ("Antwerpen",), ("Nina",)))
    w(obs("gamma", "x3", at(4), "Other theme, same number", "Other"), _enr((P1,), ("Utrecht",)))
    # x4: P1 was read wrongly out of an unrelated ad (its real number is P3).
    w(obs("alpha", "x4", at(4, 13), "Unrelated ad", "Unrelated"), _enr((P1, P3), ("Amsterdam",)))
    return {k: ad_id_for(src, k) for src, k in
            (("alpha", "x1"), ("beta", "x2"), ("gamma", "x3"), ("alpha", "x4"))}


def _phone_query(number: str) -> Query:
    return Query(text=f"phone:{number}", clauses=parse_text(f"phone:{number}"),
                 facets=("phone",), per_page=50)


def test_summary_of_a_number_across_ads_sites_places_and_time(store) -> None:  # type: ignore[no-untyped-def]
    ids = _seed(store)
    s = store.entity_summary("phone", "06-11 11 11 11")  # typed as an analyst would
    assert s.value == P1
    assert [a.ad_id for a in s.ads] == [ids["x1"], ids["x2"], ids["x3"], ids["x4"]]
    assert {(c.value, c.ads) for c in s.sites} == {("alpha", 2), ("beta", 1), ("gamma", 1)}
    assert [p.name for p in s.places] == ["Utrecht", "Antwerpen", "Amsterdam"]
    utrecht = s.places[0]
    assert utrecht.ads == 2 and utrecht.first_seen == at(1) and utrecht.last_seen == at(4)
    assert (utrecht.lat, utrecht.lon) == (52.09, 5.12)
    assert {(c.value, c.ads) for c in s.names} == {("Lisa", 1), ("Nina", 1)}
    co = {(c.kind, c.value): c.ads for c in s.co_occurring}
    assert co == {("phone", P2): 1, ("phone", P3): 1, ("email", EMAIL): 1}
    assert s.first_seen == at(1) and s.last_seen == at(5)
    assert dict(s.activity_day) == {"2026-03-02": 1, "2026-03-03": 1, "2026-03-04": 1,
                                     "2026-03-05": 2, "2026-03-06": 1}
    assert dict(s.activity_week) == {"2026-03-02": 4}
    x1 = next(a for a in s.ads if a.ad_id == ids["x1"])
    assert x1.places == ("Utrecht", "Amsterdam") and x1.first_seen == at(1)
    assert set(x1.identifiers) == {("phone", P2), ("email", EMAIL)}


def test_summary_keeps_to_the_themes_and_knows_unknown_values(store) -> None:  # type: ignore[no-untyped-def]
    ids = _seed(store)
    walled = store.entity_summary("phone", P1, themes=("trafficking",))
    assert ids["x3"] not in {a.ad_id for a in walled.ads} and len(walled.ads) == 3
    assert store.entity_summary("phone", P1, themes=()).ads == ()
    empty = store.entity_summary("email", "nobody@example.test")
    assert empty.ads == () and empty.first_seen is None and empty.activity_day == ()
    assert [a.ad_id for a in store.entity_summary("email", EMAIL).ads] == [ids["x1"]]


def test_a_suppressed_extraction_stops_linking_everywhere_but_the_evidence_stays(store) -> None:  # type: ignore[no-untyped-def]
    ids = _seed(store)
    assert store.suppress_extraction(ids["x4"], "phone", P1, "ann", "misread: 3 read as 1")
    assert not store.suppress_extraction(ids["x4"], "phone", P1, "ann", "again")  # in force
    linked = {h.ad_id for h in store.ads_for_identifier("phone", P1)}
    assert linked == {ids["x1"], ids["x2"], ids["x3"]}
    hits = store.search(_phone_query(P1))
    assert ids["x4"] not in {h.ad_id for h in hits.hits} and hits.total == 3
    x4_hit = store.search(_phone_query(P3)).hits[0]
    assert x4_hit.ad_id == ids["x4"] and x4_hit.phones == (P3,)
    facet = {v.value: v.count for v in store.search(Query(facets=("phone",))).facets[0].values}
    assert facet[P1] == 3 and facet[P3] == 1
    s = store.entity_summary("phone", P1)
    assert ids["x4"] not in {a.ad_id for a in s.ads} and ("phone", P3) not in {
        (c.kind, c.value) for c in s.co_occurring}
    assert [(x.ad_id, x.user, x.reason) for x in s.suppressed] == [
        (ids["x4"], "ann", "misread: 3 read as 1")]
    assert store.entity_summary("phone", P3).co_occurring == ()
    evidence = store.get_ad(ids["x4"]).current.enrichment
    assert [p.e164 for p in evidence.phones] == [P1, P3]  # never deleted
    listed = store.suppressions()
    assert [(x.ad_id, x.kind, x.value) for x in listed] == [(ids["x4"], "phone", P1)]
    assert store.suppressions(themes=("other",)) == []


def test_a_correction_holds_for_later_versions_and_can_be_lifted(store) -> None:  # type: ignore[no-untyped-def]
    ids = _seed(store)
    version = store.get_ad(ids["x4"]).current.id
    assert store.suppress_extraction(version, "phone", "0611111111", "ann", "misread")
    assert store.suppressions(ids["x4"])[0].version_id == version
    store.write(obs("alpha", "x4", at(6), "Unrelated ad, edited", "Unrelated"),
                _enr((P1, P3), ("Amsterdam",)))
    assert ids["x4"] not in {h.ad_id for h in store.ads_for_identifier("phone", P1)}
    assert store.unsuppress(ids["x4"], "phone", P1, "ada", "it was right after all")
    assert not store.unsuppress(ids["x4"], "phone", P1, "ada", "again")
    assert ids["x4"] in {h.ad_id for h in store.ads_for_identifier("phone", P1)}
    assert store.search(_phone_query(P1)).total == 4
    assert store.search(_phone_query(P3)).hits[0].phones == (P1, P3)
    assert store.suppressions() == []
    assert len(store.entity_summary("phone", P1).ads) == 4


def test_bad_corrections_are_refused_and_change_nothing(store) -> None:  # type: ignore[no-untyped-def]
    ids = _seed(store)
    with pytest.raises(KeyError, match="nope"):
        store.suppress_extraction("nope", "phone", P1, "ann", "why")
    with pytest.raises(ValueError, match="place"):
        store.suppress_extraction(ids["x4"], "place", "Amsterdam", "ann", "why")
    with pytest.raises(ValueError, match="never carried"):
        store.suppress_extraction(ids["x4"], "phone", P2, "ann", "why")
    with pytest.raises(ValueError, match="reason"):
        store.suppress_extraction(ids["x4"], "phone", P1, "ann", "  ")
    assert store.suppressions() == []
    assert len(store.ads_for_identifier("phone", P1)) == 4
