"""Index life-cycle bodies and documents: deterministic ids, aliases, idempotent scripts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from indexer.model import to_iso
from indexer.store import elastic_bodies as b
from indexer.store.elastic import safe_url


def test_version_ids_are_deterministic_and_distinct_per_seq(obs, enrichment) -> None:
    a = b.version_doc(obs, enrichment, seq=1, theme="", ad_first_seen=obs.capture.fetched_at)
    again = b.version_doc(obs, enrichment, seq=1, theme="", ad_first_seen=obs.capture.fetched_at)
    second = b.version_doc(obs, enrichment, seq=2, theme="", ad_first_seen=obs.capture.fetched_at)
    assert a["version_id"] == again["version_id"] != second["version_id"]
    assert a["valid_to"] is None and a["is_current"] is True


def test_capture_doc_is_keyed_by_capture_id(obs) -> None:
    doc = b.capture_doc(obs.capture, obs.ad_id, "v1", obs.source_id)
    assert doc["capture_id"] == obs.capture.id
    assert doc["warc_offset"] == 1234 and doc["fetched_at"].endswith("Z")


def test_first_index_gets_read_and_write_alias() -> None:
    body = b.create_index_body("adtrace", "versions", with_aliases=True)
    assert body["aliases"] == {"adtrace-versions": {},
                               "adtrace-versions-write": {"is_write_index": True}}
    assert "aliases" not in b.create_index_body("adtrace", "versions", with_aliases=False)
    assert b.index_name("adtrace", "versions", 1) == "adtrace-versions-v1"


def test_template_matches_only_its_prefix_versions() -> None:
    body = b.template_body("adtrace-test-x", "ads")
    assert body["index_patterns"] == ["adtrace-test-x-ads-v*"]
    assert body["template"]["mappings"]["dynamic"] == "strict"


def test_alias_swap_is_one_atomic_request_moving_both_aliases() -> None:
    actions = b.swap_alias_actions("p", "ads", "p-ads-v1", "p-ads-v2")["actions"]
    removed = {(a["remove"]["index"], a["remove"]["alias"]) for a in actions if "remove" in a}
    added = {(a["add"]["index"], a["add"]["alias"]) for a in actions if "add" in a}
    assert removed == {("p-ads-v1", "p-ads"), ("p-ads-v1", "p-ads-write")}
    assert added == {("p-ads-v2", "p-ads"), ("p-ads-v2", "p-ads-write")}


def test_reindex_never_overwrites() -> None:
    body = b.reindex_body("a-v1", "a-v2")
    assert body["dest"]["op_type"] == "create" and body["conflicts"] == "proceed"


def test_scripts_take_values_only_as_params(obs) -> None:
    at = obs.capture.fetched_at
    upd = b.last_seen_update(at)["script"]
    assert upd["params"] == {"t": "2026-03-02T10:30:00.123456Z"}
    assert "2026" not in upd["source"]
    assert b.close_version_update(at)["script"]["source"] == b.CLOSE_VERSION_SCRIPT


def test_absence_is_open_until_the_ad_returns(obs) -> None:
    at = obs.capture.fetched_at
    assert b.absence(at) == {"gt": "2026-03-02T10:30:00.123456Z"}
    assert "lte" in b.absence(at, at + timedelta(days=1))


def test_a_removal_opens_an_absence_unless_it_is_stale_or_done(obs) -> None:
    at = obs.capture.fetched_at
    ad = {"ad_id": "x", "last_seen": to_iso(at), "removed_at": None, "removed_reason": "",
          "status": "live", "absences": [b.absence(at - timedelta(days=3), at - timedelta(days=2))]}
    later = at + timedelta(hours=1)
    doc = b.removed_doc(ad, later, "404")
    assert doc == dict(ad, removed_at=to_iso(later), removed_reason="404", status="removed",
                       absences=[*ad["absences"], b.absence(later)])
    assert ad["removed_at"] is None and len(ad["absences"]) == 1  # the read document kept
    assert b.removed_doc(ad, at, "404") is not None  # removed when last seen: not stale
    # seen after the removal (its return overtook it in a spool replayed again): stale
    assert b.removed_doc(ad, at - timedelta(seconds=1), "404") is None
    assert b.removed_doc(doc, later, "404") is None  # the same removal again
    assert b.removed_doc(doc, later + timedelta(days=1), "gone") is None  # removed already


def test_only_a_capture_taken_after_the_removal_brings_the_ad_back(obs) -> None:
    at = obs.capture.fetched_at
    removed = {"removed_at": to_iso(at), "removed_reason": "404", "status": "removed",
               "last_seen": to_iso(at - timedelta(days=1)), "url": "http://demo/ad/1-old"}
    after, before = at + timedelta(seconds=1), at - timedelta(hours=1)
    assert b.returns(removed, after) and b.removed_kept(removed, after) is None
    assert b.kept_over_write(removed, after) == {}
    for older in (before, at):  # spooled before the removal, replayed after it
        assert not b.returns(removed, older) and b.removed_kept(removed, older) == at
        assert b.kept_over_write(removed, older) == {
            "removed_at": to_iso(at), "removed_reason": "404", "status": "removed"}
    live = dict(removed, removed_at=None, removed_reason="", status="live")
    assert not b.returns(live, after) and b.removed_kept(live, after) is None
    assert b.kept_over_write(live, before) == {}  # seen before it: the url moves on
    # older than the last sighting: the url stays the last sighting's
    assert b.kept_over_write(live, before - timedelta(days=1)) == {"url": "http://demo/ad/1-old"}


def test_a_version_of_an_ad_that_stays_removed_says_removed(obs, enrichment) -> None:
    at = obs.capture.fetched_at
    gone = at + timedelta(minutes=30)
    doc = b.version_doc(obs, enrichment, seq=2, theme="", ad_first_seen=at,
                        absences=[b.absence(gone)], removed_at=gone)
    assert (doc["status"], doc["removed_at"]) == ("removed", to_iso(gone))
    assert doc["absences"] == [b.absence(gone)]
    live = b.version_doc(obs, enrichment, seq=2, theme="", ad_first_seen=at)
    assert (live["status"], live["removed_at"]) == ("live", None)


def _states(at, *open_: bool, status: str = "live") -> list[dict]:
    """STATE_FIELDS of versions a day apart, the last beginning ``at``; ``open_`` says for
    each version but the last whether it was left open."""
    n = len(open_) + 1
    begins = [at - timedelta(days=n - 1 - i) for i in range(n)]
    return [{"valid_from": to_iso(b_), "status": status,
             "valid_to": None if left or i == n - 1 else to_iso(begins[i + 1])}
            for i, (b_, left) in enumerate(zip(begins, [*open_, False], strict=True))]


def test_versions_left_open_are_closed_where_the_next_one_begins(obs) -> None:
    at = obs.capture.fetched_at
    ids = ["v1", "v2", "v3"]
    assert b.unclosed_versions(ids, _states(at, False, True)) == [
        ("v2", b.close_version_update(at))]
    # two writes cut short in a row: both versions left open are closed
    assert b.unclosed_versions(ids, _states(at, True, True)) == [
        ("v1", b.close_version_update(at - timedelta(days=1))),
        ("v2", b.close_version_update(at))]
    assert b.unclosed_versions(ids, _states(at, False, False)) == []
    assert b.unclosed_versions(["v1"], _states(at)) == []  # the last one stays open
    assert b.unclosed_versions([], []) == []  # a new ad
    assert b.unclosed_versions(ids, [None, None, None]) == []  # versions not found


def test_versions_saying_removed_of_a_live_ad_are_told_it_is_live(obs) -> None:
    at = obs.capture.fetched_at
    gone = [b.absence(at - timedelta(days=1), at)]
    ad = {"version_ids": ["v1", "v2", "v3"], "absences": gone}
    states = _states(at, False, False, status="live")
    assert b.told_live(ad, states) == []
    states[0]["status"] = "removed"  # one told, the rest not: a bulk applied in part
    assert b.told_live(ad, states) == [(v, b.ad_state_update("live", None, gone))
                                       for v in ("v1", "v2", "v3")]
    # a removed ad (written by a capture older than its removal) is not told it is live
    removed = dict(ad, removed_at=to_iso(at), absences=[*gone, b.absence(at)])
    assert b.told_live(removed, _states(at, False, False, status="removed")) == []


def test_a_write_cut_short_is_told_apart_by_the_version_and_the_return_it_made(obs) -> None:
    at = obs.capture.fetched_at
    current = {"valid_from": to_iso(at)}
    assert b.unfinished_write({"absences": []}, current, at) == (True, False)
    later = at + timedelta(hours=1)
    assert b.unfinished_write({"absences": []}, current, later) == (False, False)
    assert b.unfinished_write({"absences": []}, None, at) == (False, False)
    back = [b.absence(at - timedelta(days=2), at)]
    older = {"valid_from": to_iso(at - timedelta(days=3))}
    assert b.unfinished_write({"absences": back}, older, at) == (False, True)
    for absences in ([b.absence(at - timedelta(days=1))],  # still gone
                     [b.absence(at - timedelta(days=2), later)]):  # back with another capture
        assert b.unfinished_write({"absences": absences}, older, at) == (False, False)


def test_the_version_states_are_read_in_one_request_of_three_fields_each() -> None:
    assert b.version_states_docs("t-versions", ["v1", "v2"]) == [
        {"_index": "t-versions", "_id": v, "_source": ["valid_from", "valid_to", "status"]}
        for v in ("v1", "v2")]


def test_image_ads_body_asks_for_ids_only_behind_the_wall() -> None:
    body = b.image_ads_body("AB" * 32, frozenset({"beta", "alpha"}), 20)
    assert body["query"]["bool"]["filter"] == [{"term": {"image_hashes": "ab" * 32}},
                                               {"terms": {"source_id": ["alpha", "beta"]}}]
    assert body["collapse"] == {"field": "ad_id"} and body["_source"] == ["ad_id"]
    assert body["size"] == 20 and body["track_total_hits"] is False
    unwalled = b.image_ads_body("ab" * 32, None, 5)
    assert unwalled["query"]["bool"]["filter"] == [{"term": {"image_hashes": "ab" * 32}}]


def test_identifier_body_collapses_on_ad_and_rejects_unknown_kinds() -> None:
    body = b.identifier_body("phone", "+31612345678")
    assert body["query"]["bool"]["filter"] == [{"term": {"phones": "+31612345678"}}]
    assert body["collapse"] == {"field": "ad_id"}
    with pytest.raises(ValueError, match="fax"):
        b.identifier_body("fax", "1")


def test_deep_paging_bodies_use_search_after() -> None:
    assert "search_after" not in b.all_ads_body(500, None)
    assert b.all_ads_body(500, ["abc"])["search_after"] == ["abc"]
    live = b.live_ads_body("demo", 1000, ["x"])
    assert live["query"]["bool"]["must_not"] == [{"exists": {"field": "removed_at"}}]


def test_audit_ids_are_stable_for_retries(obs) -> None:
    at = obs.capture.fetched_at
    assert b.audit_doc(at, "a", "view")["event_id"] == b.audit_doc(at, "a", "view")["event_id"]
    assert b.audit_doc(at, "a", "view")["event_id"] != b.audit_doc(at, "b", "view")["event_id"]


def test_urls_in_messages_lose_their_password() -> None:
    assert safe_url("http://elastic:s3cret@es:9200/") == "http://es:9200/"


def test_bulk_lines_leave_out_a_deletes_document() -> None:
    ops = [({"delete": {"_id": "a"}}, {}), ({"update": {"_id": "b"}}, {"doc": {"x": 1}})]
    assert b.bulk_lines(ops) == [{"delete": {"_id": "a"}}, {"update": {"_id": "b"}},
                                 {"doc": {"x": 1}}]
