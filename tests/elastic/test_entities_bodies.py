"""Server-less checks of the identifier-summary and correction bodies for Elasticsearch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from indexer.model import Enrichment, Phone, Place, to_dict
from indexer.store import elastic_entities as ee
from indexer.store.elastic_bodies import KINDS, load_mapping
from indexer.store.entity_summary import Suppression

AT = datetime(2026, 3, 2, 12, tzinfo=UTC)
S = Suppression("ad1", "phone", "+31611111111", "ann", "misread", AT, "v1")


def test_the_suppressions_index_is_strict_and_its_documents_fit() -> None:
    assert "suppressions" in KINDS
    spec = load_mapping("suppressions")["mappings"]
    assert spec["dynamic"] == "strict"
    doc = ee.suppression_doc("ad1", "trafficking", [S], [ee.lifted(S, "ada", "fine", AT)], AT)
    assert set(doc) <= set(spec["properties"])
    assert doc["keys"] == ["phone:+31611111111"]
    assert spec["properties"]["items"]["enabled"] is False  # kept as written, never parsed
    assert doc["history"][0]["lifted_by"] == "ada" and doc["history"][0]["value"] == S.value


def test_corrections_round_trip_through_their_document() -> None:
    doc = ee.suppression_doc("ad1", "t", [S], [], AT)
    assert ee.suppressions_from(doc) == [S]
    assert ee.suppressions_from(None) == []


def test_versions_body_filters_the_link_field_and_the_theme_wall() -> None:
    body = ee.versions_body("email", "a@b.test", ("trafficking",))
    assert body["query"]["bool"]["filter"] == [{"term": {"emails": "a@b.test"}},
                                               {"terms": {"theme": ["trafficking"]}}]
    assert "enrichment" in body["_source"]
    assert ee.versions_body("phone", "+31", None)["query"]["bool"]["filter"] == [
        {"term": {"phones": "+31"}}]
    with pytest.raises(ValueError, match="place"):
        ee.versions_body("place", "Utrecht", None)


def test_suppressions_body_finds_one_value_or_all_within_themes() -> None:
    one = ee.suppressions_body(None, "phone", "+31611111111")["query"]["bool"]["filter"]
    assert {"term": {"keys": "phone:+31611111111"}} in one
    walled = ee.suppressions_body(())["query"]["bool"]["filter"]
    assert {"terms": {"theme": []}} in walled  # no themes granted: nothing


def test_links_are_rebuilt_from_the_enrichment_less_the_corrections() -> None:
    enr = Enrichment(phones=(Phone("+31611111111", "06", "NL"), Phone("+31633333333", "06", "NL")))
    assert ee.links_update("phone", enr, [S]) == {"doc": {"phones": ["+31633333333"]}}
    assert ee.links_update("phone", enr, []) == {"doc": {"phones": ["+31611111111",
                                                                    "+31633333333"]}}
    other = Suppression("ad1", "email", "+31611111111", "ann", "x", AT)
    assert ee.links_update("phone", enr, [other])["doc"]["phones"][0] == "+31611111111"
    with pytest.raises(ValueError, match="place"):
        ee.links_update("place", enr, [])


def test_a_new_version_of_a_corrected_ad_leaves_the_value_out_of_its_links() -> None:
    vdoc = {"phones": ["+31611111111", "+31633333333"], "emails": [], "enrichment": {"x": 1}}
    out = ee.corrected(vdoc, [S])
    assert out["phones"] == ["+31633333333"] and out["enrichment"] == {"x": 1}
    assert vdoc["phones"] == ["+31611111111", "+31633333333"]  # input untouched


def test_row_from_a_version_document() -> None:
    enr = Enrichment(phones=(Phone("+31611111111", "06", "NL"),),
                     places=(Place("Utrecht", "Utrecht", "Utrecht", "NL", 52.09, 5.12),))
    row = ee.row_from({"ad_id": "a", "version_id": "v", "source_id": "s", "title": "T",
                       "valid_from": "2026-03-02T12:00:00.000000Z",
                       "last_seen": "2026-03-03T12:00:00.000000Z", "removed_at": None,
                       "enrichment": to_dict(enr)})
    assert row.first_seen == AT and row.removed_at is None and row.enrichment == enr
    assert ee.captures_body(["v"])["query"]["bool"]["filter"] == [{"terms": {"version_id": ["v"]}}]
