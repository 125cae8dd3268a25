"""Signals and enrichment updates in Elasticsearch: every body checked without a server."""

from __future__ import annotations

from indexer.model import Observation, to_iso
from indexer.search.parse import parse_args
from indexer.signals import PHONE_MANY_ADS, PHONE_MOVING
from indexer.store import elastic_bodies as b
from indexer.store import elastic_signals as s
from indexer.store.elastic_query import compile_search

from .test_mappings import check, props


def test_signal_fields_are_in_the_shipped_mapping_and_the_update_adds_them() -> None:
    update = s.signal_mapping_update()
    assert update["properties"]["signals"]["type"] == "keyword"
    assert update["properties"]["signal_reasons"] == {"type": "object", "enabled": False}
    assert all(props("versions")[f] == update["properties"][f] for f in s.SIGNAL_FIELDS)


def test_signal_update_fits_the_strict_mapping() -> None:
    body = s.signal_update({PHONE_MOVING: ["+31… was in Utrecht, then Breda"], PHONE_MANY_ADS: ["5 ads"]})
    assert body["doc"]["signals"] == [PHONE_MANY_ADS, PHONE_MOVING]
    check(body["doc"], props("versions"))
    assert s.signal_update({}) == {"doc": {"signals": [], "signal_reasons": {}}}


def test_enrichment_update_replaces_every_derived_field(obs: Observation, enrichment) -> None:
    body = s.enrichment_update(enrichment)["doc"]
    check(body, props("versions"))
    full = b.version_doc(obs, enrichment, seq=1, theme="t", ad_first_seen=obs.capture.fetched_at)
    assert {k: full[k] for k in body} == body  # the same values a fresh write would give


def test_facts_scan_pages_with_search_after() -> None:
    first = s.facts_scan_body(100, None)
    assert "search_after" not in first and first["sort"] == [{"version_id": "asc"}]
    assert set(first["_source"]) <= {*props("versions"), "enrichment.attributes"}
    assert s.facts_scan_body(100, ["v9"])["search_after"] == ["v9"]


def test_facts_from_version_documents(obs: Observation, enrichment) -> None:
    doc = b.version_doc(obs, enrichment, seq=1, theme="t", ad_first_seen=obs.capture.fetched_at)
    later = dict(doc, version_id="v2", valid_from=to_iso(obs.capture.fetched_at.replace(year=2027)))
    facts, versions = s.facts_from([later, doc])
    assert versions == {obs.ad_id: ["v2", doc["version_id"]]}
    (ad,) = facts
    assert ad.source_id == obs.source_id
    assert [x.at for x in ad.sightings] == sorted(x.at for x in ad.sightings)  # oldest first
    first = ad.sightings[0]
    assert first.phones == tuple(doc["phones"]) and first.images == tuple(doc["image_hashes"])
    assert first.names == tuple(a.value for a in enrichment.attributes if a.kind == "name")


def test_signal_is_a_keyword_field_and_facet_in_the_search_body() -> None:
    body = compile_search(parse_args({"q": f"signal:{PHONE_MANY_ADS}", "f.signal": PHONE_MOVING}))
    text = repr(body)
    assert f"'signals': {{'value': '{PHONE_MANY_ADS}'" in text
    assert {"terms": {"signals": [PHONE_MOVING]}} in body["post_filter"]["bool"]["filter"]
    q = parse_args({})
    facet = compile_search(q.__class__(facets=("signal",)))["aggs"]["facet_signal"]
    assert facet["aggs"]["values"]["terms"]["field"] == "signals"


def test_reasons_body_reads_the_current_version() -> None:
    body = s.reasons_body("ad-1")
    assert body["sort"] == [{"seq": "desc"}] and body["size"] == 1
