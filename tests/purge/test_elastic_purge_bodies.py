"""Elasticsearch purge and hold bodies, checked without a server (and against the
strict mappings: every field a body names exists in its index)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from indexer.store import elastic_purge as ep
from indexer.store.elastic_bodies import KINDS, load_mapping

CUT = datetime(2026, 1, 1, tzinfo=UTC)


def _fields(kind: str) -> set[str]:
    return set(load_mapping(kind)["mappings"]["properties"])


def test_holds_index_is_strict_and_registered() -> None:
    assert "holds" in KINDS
    mapping = load_mapping("holds")["mappings"]
    assert mapping["dynamic"] == "strict"
    assert set(ep.hold_doc("a", "r", "u", CUT)) == _fields("holds")


def test_purge_query_selects_source_range_and_skips_holds() -> None:
    body = ep.purge_captures_body("alpha", CUT, ["held1"], after=["x"], size=5)
    assert body["query"]["bool"]["filter"] == [
        {"term": {"source_id": "alpha"}},
        {"range": {"fetched_at": {"lt": "2026-01-01T00:00:00.000000Z"}}}]
    assert body["query"]["bool"]["must_not"] == [{"terms": {"ad_id": ["held1"]}}]
    assert body["search_after"] == ["x"] and body["size"] == 5
    assert set(body["_source"]) <= _fields("captures")
    wipe = ep.purge_captures_body("alpha", None, [])
    assert wipe["query"] == {"bool": {"filter": [{"term": {"source_id": "alpha"}}]}}
    assert "search_after" not in wipe


def test_remaining_bodies_exclude_what_goes() -> None:
    caps = ep.remaining_captures_body(["v1", "v2"], ["c1"])
    assert caps["query"]["bool"]["must_not"] == [{"ids": {"values": ["c1"]}}]
    assert caps["aggs"]["v"]["terms"] == {"field": "version_id", "size": 2}
    vers = ep.remaining_versions_body(["a1"], ["v1"])
    assert vers["aggs"]["a"]["aggs"]["first"] == {"min": {"field": "valid_from"}}
    for f in ("version_id", "fetched_at"):
        assert f in _fields("captures")
    for f in ("ad_id", "valid_from", "image_hashes"):
        assert f in _fields("versions")
    shown = ep.images_still_shown_body(["h"], ["v1"])
    assert shown["query"]["bool"]["filter"] == [{"terms": {"image_hashes": ["h"]}}]


def test_relocate_and_ad_update_are_plain_json() -> None:
    ops = ep.relocate_ops({"c2": ("w.gz", 10, 3), "c1": ("w.gz", 0, 9)})
    assert [cid for cid, _ in ops] == ["c1", "c2"]
    assert ops[0][1] == {"doc": {"warc_file": "w.gz", "warc_offset": 0, "warc_length": 9}}
    upd = ep.ad_update(["v1"], "2026-01-02T00:00:00.000000Z")
    assert upd["script"]["params"] == {"dead": ["v1"], "first": "2026-01-02T00:00:00.000000Z"}
    json.dumps(upd)


def test_holds_from_reads_documents() -> None:
    resp = {"hits": {"hits": [{"_source": ep.hold_doc("a1", "case", "me", CUT)}]}}
    [hold] = ep.holds_from(resp)
    assert (hold.ad_id, hold.reason, hold.held_by, hold.held_at) == ("a1", "case", "me", CUT)


def test_dependents_of_purged_ads_are_selected_by_ad_id() -> None:
    from indexer.store.elastic_purge import DEPENDENT_KINDS, dependents_query

    assert set(DEPENDENT_KINDS) == {"assessments", "suppressions"}
    assert dependents_query(["b", "a"]) == {"terms": {"ad_id": ["a", "b"]}}
