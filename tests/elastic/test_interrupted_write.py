"""A write cut short after its claim, written again: what the store sends the second time.

The ElasticStore claims a new version on the ad document first, then sends the writes
that follow (close the version before, tell older versions the ad is back, record the
capture) in one bulk request. A kill or a lost server between the two left the version
before open beside the current one for good: the replayed capture found its own claim,
took itself for an unchanged sighting and sent neither. These tests play the server's
side of that replay (tests.elastic.scripted_server) and read the bulk request it gets;
the contract suite checks the resulting history on a real server.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from indexer.model import Observation, to_iso
from indexer.store import elastic_bodies as b
from tests.elastic.scripted_server import Scripted, store_for


def _found(doc_id: str, source: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"_index": "t-x-v1", "_id": doc_id, "_version": 3, "_seq_no": 7,
                 "_primary_term": 1, "found": True, "_source": source}


def _bulk_ok(n: int) -> tuple[int, dict[str, Any]]:
    return 200, {"errors": False, "items": [{"update": {"status": 200}}] * n}


def _bulk_ops(srv: Scripted) -> list[tuple[str, str, dict[str, Any]]]:
    """(verb, document id, body) of every operation in the bulk requests the server got."""
    ops = []
    for _method, path, body in srv.bodies:
        if path.startswith("/_bulk"):
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            for action, doc in zip(lines[::2], lines[1::2], strict=True):
                [(verb, meta)] = action.items()
                ops.append((verb, meta["_id"], doc))
    return ops


def _script_claimed(srv: Scripted, obs: Observation, enrichment: Any, *,
                    absences: list[dict[str, str]] | None = None,
                    made_by_this_capture: bool = True) -> dict[str, Any]:
    """The server holds an ad whose current version (2nd) this capture's claim made."""
    at = obs.capture.fetched_at
    vdoc = b.version_doc(obs, enrichment, seq=2, theme="trafficking",
                         ad_first_seen=at - timedelta(days=3))
    if not made_by_this_capture:
        vdoc["valid_from"] = to_iso(at - timedelta(days=1))
    ad = b.ad_doc(obs, theme="trafficking", first_seen=at - timedelta(days=3), last_seen=at,
                  version_ids=["v-first", vdoc["version_id"]],
                  fingerprint=vdoc["fingerprint"], absences=absences)
    srv.script[("GET", "/t-captures/_doc/")] = [(404, {"found": False})]
    srv.script[("GET", "/t-ads/_doc/")] = [_found(obs.ad_id, ad)]
    srv.script[("GET", "/t-versions/_doc/")] = [_found(vdoc["version_id"], vdoc)]
    return ad


def test_a_replayed_capture_closes_the_version_its_interrupted_write_left_open(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    ad = _script_claimed(server, obs, enrichment)
    server.script[("PUT", "/_bulk")] = [_bulk_ok(2)]
    result = store_for(server).write(obs, enrichment)
    ops = _bulk_ops(server)
    assert [(verb, doc_id) for verb, doc_id, _ in ops] == [
        ("update", "v-first"), ("create", obs.capture.id)]
    close = ops[0][2]["script"]
    assert close["source"] == b.CLOSE_VERSION_SCRIPT
    assert close["params"] == {"t": to_iso(obs.capture.fetched_at)}
    assert ops[1][2]["version_id"] == ad["current_version_id"]
    assert result.new_version and not result.new_ad and not result.duplicate_capture


def test_a_replayed_return_tells_the_older_versions_the_ad_is_live(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    at = obs.capture.fetched_at
    back = [b.absence(at - timedelta(days=2), at)]
    ad = _script_claimed(server, obs, enrichment, absences=back, made_by_this_capture=False)
    server.script[("PUT", "/_bulk")] = [_bulk_ok(4)]
    result = store_for(server).write(obs, enrichment)
    ops = _bulk_ops(server)
    told = [(doc_id, doc["script"]["params"]) for verb, doc_id, doc in ops
            if verb == "update" and doc["script"]["source"] == b.AD_STATE_SCRIPT]
    assert [doc_id for doc_id, _ in told] == ad["version_ids"]
    assert all(p == {"status": "live", "removed_at": None, "absences": back} for _, p in told)
    assert not any(doc["script"]["source"] == b.CLOSE_VERSION_SCRIPT
                   for verb, _, doc in ops if verb == "update")  # it made no version
    assert result.reappeared and not result.new_version


def test_a_sighting_after_the_last_pays_no_extra_read_and_closes_nothing(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    _script_claimed(server, obs, enrichment)
    capture = replace(obs.capture, fetched_at=obs.capture.fetched_at + timedelta(hours=1))
    later = replace(obs, capture=capture)
    server.script[("PUT", "/_bulk")] = [_bulk_ok(2)]
    result = store_for(server).write(later, enrichment)
    assert not any(path.startswith("/t-versions/_doc/") for _, path, _ in server.log)
    assert [(verb, doc["script"]["source"] if verb == "update" else "")
            for verb, _, doc in _bulk_ops(server)] == [("update", b.LAST_SEEN_SCRIPT),
                                                       ("create", "")]
    assert not result.new_version


def test_a_removed_ad_marked_removed_again_tells_its_versions_its_own_removal(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    at = obs.capture.fetched_at
    ad = _script_claimed(server, obs, enrichment)
    removed = dict(ad, removed_at=to_iso(at + timedelta(days=1)), status="removed",
                   absences=[b.absence(at + timedelta(days=1))])
    server.script[("GET", "/t-ads/_doc/")] = [_found(obs.ad_id, removed)]
    server.script[("PUT", "/_bulk")] = [_bulk_ok(2)]
    # the next run decides the removal again, at its own time (the first was cut short)
    assert not store_for(server).mark_removed(obs.source_id, obs.site_ad_id,
                                              at + timedelta(days=2), "gone")
    ops = _bulk_ops(server)
    assert [doc_id for _, doc_id, _ in ops] == ad["version_ids"]
    assert all(doc["script"]["params"] == {"status": "removed", "removed_at": removed["removed_at"],
                                           "absences": removed["absences"]} for _, _, doc in ops)
    assert not any(m == "PUT" and p.startswith("/t-ads") for m, p, _ in server.log)  # no claim
