"""Theme walls inside the store, and the source register's history, in every backend.

A user granted some themes must get, from every read, only ads of sources of those
themes: the same answer as if the other ads did not exist. themes=None is no wall;
an empty tuple sees nothing.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from contract_data import PHONE_A, seed

from indexer.model import SourceInfo, ad_id_for
from indexer.search.query import Query

A1, B1, G1 = ad_id_for("alpha", "a1"), ad_id_for("beta", "b1"), ad_id_for("gamma", "g1")
ALL_SIX = 6


@pytest.fixture()
def seeded(store):  # type: ignore[no-untyped-def]
    seed(store)
    return store


def test_search_honours_the_wall(seeded) -> None:  # type: ignore[no-untyped-def]
    assert seeded.search(Query()).total == ALL_SIX
    other = seeded.search(Query(themes=("other",), facets=("site", "theme")))
    assert [h.ad_id for h in other.hits] == [G1]
    theme_counts = {v.value: v.count for f in other.facets if f.name == "theme" for v in f.values}
    assert theme_counts == {"other": 1}
    assert seeded.search(Query(themes=())).total == 0


def test_get_ad_behind_the_wall_is_unknown(seeded) -> None:  # type: ignore[no-untyped-def]
    assert seeded.get_ad(A1) is not None
    assert seeded.get_ad(A1, themes=("trafficking",)).id == A1
    assert seeded.get_ad(A1, themes=("other",)) is None
    assert seeded.get_ad(A1, themes=()) is None
    assert seeded.get_ad(G1, themes=("other",)).source_id == "gamma"


def test_identifier_links_stop_at_the_wall(seeded) -> None:  # type: ignore[no-untyped-def]
    assert len(seeded.ads_for_identifier("phone", PHONE_A)) == 2
    assert len(seeded.ads_for_identifier("phone", PHONE_A, themes=("trafficking",))) == 2
    assert seeded.ads_for_identifier("phone", PHONE_A, themes=("other",)) == []
    assert seeded.ads_for_identifier("phone", "0612345678", themes=()) == []


def test_bulk_export_stops_at_the_wall(seeded) -> None:  # type: ignore[no-untyped-def]
    assert len(list(seeded.iter_ads())) == ALL_SIX
    assert [r.id for r in seeded.iter_ads(themes=("other",))] == [G1]
    assert {r.source_id for r in seeded.iter_ads(themes=("trafficking",))} == {"alpha", "beta"}
    assert list(seeded.iter_ads(themes=())) == []


def test_entity_summary_and_aggregates_stop_at_the_wall(seeded) -> None:  # type: ignore[no-untyped-def]
    assert len(seeded.entity_summary("phone", PHONE_A).ads) == 2
    assert seeded.entity_summary("phone", PHONE_A, themes=("other",)).ads == ()
    assert seeded.aggregates().ads == ALL_SIX
    assert seeded.aggregates(themes=("other",)).ads == 1


def test_an_ad_of_an_unregistered_source_is_behind_every_wall(store) -> None:  # type: ignore[no-untyped-def]
    from contract_data import at, enr, obs

    store.write(obs("ghost", "x1", at(1), "No register entry"), enr())
    ghost = ad_id_for("ghost", "x1")
    assert store.get_ad(ghost) is not None
    assert store.get_ad(ghost, themes=("trafficking",)) is None
    assert list(store.iter_ads(themes=("trafficking",))) == []


REGISTERED = SourceInfo("delta", "Delta Board", "trafficking", "NL", "http://delta.test",
                        "Ads in the pilot region", "chief inspector", approved_on="2026-01-05",
                        sections=("Utrecht: city/utrecht/",), enabled=True)


def test_source_register_keeps_every_field_and_its_history(store) -> None:  # type: ignore[no-untyped-def]
    store.upsert_source(REGISTERED)
    store.upsert_source(REGISTERED)  # every crawl re-registers: no new revision
    assert {s.id: s for s in store.sources()}["delta"] == REGISTERED
    first = store.source_history("delta")
    assert [r.seq for r in first] == [1]
    assert first[0].info == REGISTERED and "theme" in first[0].changes

    changed = replace(REGISTERED, reason="Extended to the whole province",
                      sections=(*REGISTERED.sections, "Amersfoort: city/amersfoort/"),
                      enabled=False)
    store.upsert_source(changed)
    history = store.source_history("delta")
    assert [r.seq for r in history] == [1, 2]
    assert set(history[1].changes) == {"reason", "sections", "enabled"}
    assert history[1].recorded_at >= history[0].recorded_at
    assert history[0].info.reason == "Ads in the pilot region"  # the past is kept
    assert {s.id: s for s in store.sources()}["delta"] == changed
    assert store.source_history("nobody") == []


def test_elasticsearch_register_documents_fit_their_strict_mappings() -> None:
    """Server-less: what ElasticStore writes for the register is accepted by the shipped
    mappings (dynamic: strict refuses any unmapped field), and reads back whole."""
    from datetime import UTC, datetime

    from indexer.store import elastic_bodies as b
    from indexer.store.elastic_sources import history_body, history_doc, revisions_from

    sources_props = b.load_mapping("sources")["mappings"]["properties"]
    assert set(b.source_doc(REGISTERED)) <= set(sources_props)
    history = b.load_mapping("source_history")["mappings"]
    assert history["dynamic"] == "strict"
    when = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    doc_id, doc = history_doc(REGISTERED, when)
    assert set(doc) == set(history["properties"]) and history["properties"]["info"]["enabled"] is False
    assert doc_id == history_doc(REGISTERED, when)[0]  # a retried request writes the same doc
    assert history_body("delta")["query"] == {"term": {"source_id": "delta"}}
    (rev,) = revisions_from([{"_source": doc}])
    assert rev.info == REGISTERED and rev.recorded_at == when and rev.seq == 1
