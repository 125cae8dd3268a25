"""Assessment request bodies for Elasticsearch, checked without a server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from indexer.assessment import Assessment
from indexer.store import elastic_assessments as ea
from indexer.store.elastic_bodies import KINDS, load_mapping

AT = datetime(2026, 3, 4, 12, 0, 0, 123456, tzinfo=UTC)


def test_document_round_trips_and_fits_the_strict_mapping():
    a = Assessment("ad1", "ann", "yes", "same phone", AT)
    doc = ea.assessment_doc(a)
    props = load_mapping("assessments")["mappings"]["properties"]
    assert "assessments" in KINDS
    assert load_mapping("assessments")["mappings"]["dynamic"] == "strict"
    assert set(doc) <= set(props)
    assert ea.from_doc(json.loads(json.dumps(doc))) == a
    assert doc["seq"] == int(AT.timestamp() * 1_000_000)


def test_ids_are_deterministic_per_ad_user_and_time():
    assert ea.assessment_id("ad1", "ann", AT) == ea.assessment_id("ad1", "ann", AT)
    assert ea.assessment_id("ad1", "ann", AT) != ea.assessment_id("ad1", "bob", AT)


def test_history_newest_first_and_export_pages_oldest_first():
    assert ea.history_body("ad1")["query"] == {"term": {"ad_id": "ad1"}}
    assert ea.history_body("ad1")["sort"][0] == {"seq": "desc"}
    body = ea.all_body(100, ["x", "y", "z"])
    assert body["sort"][0] == {"seq": "asc"} and body["search_after"] == ["x", "y", "z"]
    assert "search_after" not in ea.all_body(100)


def test_label_is_copied_to_the_ad_and_every_version():
    assert ea.label_update("no") == {"doc": {"assessment": "no"}}
    body = ea.versions_label_body("ad1", "unsure")
    assert body["query"] == {"term": {"ad_id": "ad1"}}
    assert body["script"]["params"] == {"label": "unsure"}
    assert "params.label" in body["script"]["source"]


def test_make_refuses_bad_labels():
    with pytest.raises(ValueError, match="'maybe'"):
        ea.make("ad1", "ann", "maybe", "", AT)
