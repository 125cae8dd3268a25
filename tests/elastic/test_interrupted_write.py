"""Writes and removals cut short half-way, then the ad's next write: what the store sends.

Elasticsearch has no transactions. A write claims its version on the ad document, then
closes the version before (and tells older versions the ad is back) in one bulk request;
a removal tells the versions, then claims. A kill or a lost server between the two left
the version before open beside the current one for good, or versions saying "removed" of
a live ad. Each write and removal now reads the state of every version of the ad and
mends what it finds. These tests play the server's side (tests.elastic.scripted_server)
and read the requests the store sends; the contract suite checks the resulting history
on a real server.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from indexer.model import Observation, to_iso
from indexer.store import elastic_bodies as b
from tests.elastic.scripted_server import Scripted, store_for


def _found(doc_id: str, source: dict[str, Any]) -> dict[str, Any]:
    return {"_index": "t-x-v1", "_id": doc_id, "_version": 3, "_seq_no": 7,
            "_primary_term": 1, "found": True, "_source": source}


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


def _scripts(ops: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """(document id, painless source) of the updates, ("capture", "") for a capture."""
    return [(doc_id, doc["script"]["source"]) if verb == "update" else ("capture", "")
            for verb, doc_id, doc in ops]


def _script_ad(srv: Scripted, obs: Observation, enrichment: Any, *, current_from_days: int,
               prev_open: bool, status: str = "live",
               absences: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The server holds an ad of two versions, the text of ``obs`` the current one, which
    began ``current_from_days`` before obs was taken; the ad was last seen then."""
    began = obs.capture.fetched_at - timedelta(days=current_from_days)
    current = b.version_doc(obs, enrichment, seq=2, theme="trafficking",
                            ad_first_seen=began - timedelta(days=3))
    ad = b.ad_doc(obs, theme="trafficking", first_seen=began - timedelta(days=3),
                  last_seen=began, version_ids=["v-first", current["version_id"]],
                  fingerprint=current["fingerprint"], absences=absences)
    states = [{"valid_from": to_iso(began - timedelta(days=3)), "status": status,
               "valid_to": None if prev_open else to_iso(began)},
              {"valid_from": to_iso(began), "valid_to": None, "status": status}]
    srv.script[("GET", "/t-captures/_doc/")] = [(404, {"found": False})]
    srv.script[("GET", "/t-ads/_doc/")] = [(200, _found(obs.ad_id, ad))]
    srv.script[("POST", "/_mget")] = [(200, {"docs": [
        _found(v, src) for v, src in zip(ad["version_ids"], states, strict=True)]})]
    return ad


def test_the_next_sighting_closes_the_version_a_killed_write_left_open(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    # killed after claiming the current version a day ago; today the same text again
    ad = _script_ad(server, obs, enrichment, current_from_days=1, prev_open=True)
    result = store_for(server).write(obs, enrichment)
    ops = _bulk_ops(server)
    current = ad["current_version_id"]
    assert _scripts(ops) == [("v-first", b.CLOSE_VERSION_SCRIPT),
                             (current, b.LAST_SEEN_SCRIPT), ("capture", "")]
    began = obs.capture.fetched_at - timedelta(days=1)  # where the current version begins
    assert ops[0][2]["script"]["params"] == {"t": to_iso(began)}
    assert not result.new_version and not result.new_ad


def test_the_same_capture_written_again_reports_the_version_it_made(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    # the server was gone after the claim: the spool writes the same capture again
    ad = _script_ad(server, obs, enrichment, current_from_days=0, prev_open=True)
    result = store_for(server).write(obs, enrichment)
    ops = _bulk_ops(server)
    assert _scripts(ops)[0] == ("v-first", b.CLOSE_VERSION_SCRIPT)
    assert ops[0][2]["script"]["params"] == {"t": to_iso(obs.capture.fetched_at)}
    assert ops[-1][2]["version_id"] == ad["current_version_id"]
    assert result.new_version and not result.new_ad and not result.duplicate_capture


def test_versions_left_saying_removed_of_a_live_ad_are_told_it_is_live(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    at = obs.capture.fetched_at
    back = [b.absence(at - timedelta(days=2), at)]
    ad = _script_ad(server, obs, enrichment, current_from_days=0, prev_open=False,
                    status="removed", absences=back)
    result = store_for(server).write(obs, enrichment)
    told = [(doc_id, doc["script"]["params"]) for verb, doc_id, doc in _bulk_ops(server)
            if verb == "update" and doc["script"]["source"] == b.AD_STATE_SCRIPT]
    assert [doc_id for doc_id, _ in told] == ad["version_ids"]
    assert all(p == {"status": "live", "removed_at": None, "absences": back} for _, p in told)
    assert result.reappeared and result.new_version  # what the write cut short had done


def test_a_whole_history_gets_no_repairs(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    ad = _script_ad(server, obs, enrichment, current_from_days=1, prev_open=False)
    store_for(server).write(obs, enrichment)
    assert _scripts(_bulk_ops(server)) == [(ad["current_version_id"], b.LAST_SEEN_SCRIPT),
                                           ("capture", "")]
    [(_, _, mget)] = [entry for entry in server.bodies if entry[1].startswith("/_mget")]
    assert json.loads(mget)["docs"] == [  # every version, three fields of each
        {"_index": "t-versions", "_id": v, "_source": ["valid_from", "valid_to", "status"]}
        for v in ad["version_ids"]]


def test_a_removal_tells_the_versions_before_it_claims_the_ad(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    ad = _script_ad(server, obs, enrichment, current_from_days=1, prev_open=False)
    at = obs.capture.fetched_at
    assert store_for(server).mark_removed(obs.source_id, obs.site_ad_id, at, "404")
    writes = [(m, p) for m, p, _ in server.log if m in ("PUT", "POST") and "_mget" not in p]
    assert [p.split("/")[1] for _, p in writes] == ["_bulk", "t-ads-write"]
    told = _bulk_ops(server)
    assert [doc_id for _, doc_id, _ in told] == ad["version_ids"]
    assert all(doc["script"]["params"]["status"] == "removed" for _, _, doc in told)


def test_a_removal_closes_the_version_a_killed_write_left_open(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    # killed after claiming the current version a day ago; today the ad is gone
    ad = _script_ad(server, obs, enrichment, current_from_days=1, prev_open=True)
    at = obs.capture.fetched_at
    assert store_for(server).mark_removed(obs.source_id, obs.site_ad_id, at, "404")
    ops = _bulk_ops(server)
    assert _scripts(ops) == [("v-first", b.CLOSE_VERSION_SCRIPT),
                             *((v, b.AD_STATE_SCRIPT) for v in ad["version_ids"])]
    assert ops[0][2]["script"]["params"] == {"t": to_iso(at - timedelta(days=1))}


def test_a_version_whose_claim_was_lost_is_taken_up_where_it_began(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    # a write of a new text created its version a day ago and was killed before its
    # claim; today the same new text: the version exists, and begins a day ago
    ad = _script_ad(server, obs, enrichment, current_from_days=2, prev_open=False)
    changed = replace(obs, fields=replace(obs.fields, text=obs.fields.text + " (new)"))
    made = b.version_doc(changed, enrichment, seq=3, theme="trafficking",
                         ad_first_seen=obs.capture.fetched_at - timedelta(days=5))
    made["valid_from"] = to_iso(obs.capture.fetched_at - timedelta(days=1))
    server.script[("GET", "/t-suppressions/_doc/")] = [(404, {"found": False})]  # none
    server.script[("PUT", "/t-versions-write/_create/")] = [(409, {"error": {
        "type": "version_conflict_engine_exception"}, "status": 409})]
    server.script[("GET", "/t-versions/_doc/")] = [(200, _found(made["version_id"], made))]
    result = store_for(server).write(changed, enrichment)
    ops = _bulk_ops(server)
    assert _scripts(ops) == [(ad["current_version_id"], b.CLOSE_VERSION_SCRIPT),
                             (made["version_id"], b.LAST_SEEN_SCRIPT), ("capture", "")]
    assert ops[0][2]["script"]["params"] == {"t": made["valid_from"]}
    assert result.new_version


def test_a_removed_ad_marked_removed_again_writes_nothing(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    ad = _script_ad(server, obs, enrichment, current_from_days=1, prev_open=False)
    removed = dict(ad, removed_at=to_iso(obs.capture.fetched_at), status="removed")
    server.script[("GET", "/t-ads/_doc/")] = [(200, _found(obs.ad_id, removed))]
    later = obs.capture.fetched_at + timedelta(days=1)
    assert not store_for(server).mark_removed(obs.source_id, obs.site_ad_id, later, "404")
    assert not [p for m, p, _ in server.log if m in ("PUT", "POST", "DELETE")]


def test_a_removal_older_than_the_last_sighting_writes_nothing(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    # a spool replayed again: the ad came back (last seen a day ago) after this removal
    _script_ad(server, obs, enrichment, current_from_days=1, prev_open=False)
    stale = obs.capture.fetched_at - timedelta(days=2)
    assert not store_for(server).mark_removed(obs.source_id, obs.site_ad_id, stale, "404")
    assert not [p for m, p, _ in server.log if m in ("PUT", "POST", "DELETE")]


def _claimed_ad(srv: Scripted) -> dict[str, Any]:
    """The ad document the store's claim sent."""
    [(_, _, body)] = [e for e in srv.bodies if e[0] == "PUT" and e[1].startswith("/t-ads-write/")]
    return json.loads(body)


def _removed_after(server: Scripted, obs: Observation, enrichment: Any
                   ) -> tuple[dict[str, Any], datetime]:
    """The ad as the store holds it once removed half an hour after ``obs`` was fetched
    (by absence, at the end of the run whose write of ``obs`` was spooled), and when."""
    gone = obs.capture.fetched_at + timedelta(minutes=30)
    ad = _script_ad(server, obs, enrichment, current_from_days=1, prev_open=False,
                    status="removed", absences=[b.absence(gone)])
    ad.update(removed_at=to_iso(gone), removed_reason="missing", status="removed")
    server.script[("GET", "/t-ads/_doc/")] = [(200, _found(obs.ad_id, ad))]
    return ad, gone


def test_a_capture_older_than_the_removal_leaves_the_ad_and_its_versions_removed(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    # spooled before the run's end removed the ad by absence, replayed after it
    at = obs.capture.fetched_at
    ad, gone = _removed_after(server, obs, enrichment)
    result = store_for(server).write(obs, enrichment)
    assert not result.reappeared and not result.new_version
    claimed = _claimed_ad(server)
    assert (claimed["status"], claimed["removed_at"], claimed["removed_reason"]) == (
        "removed", to_iso(gone), "missing")
    assert claimed["absences"] == [b.absence(gone)] and claimed["last_seen"] == to_iso(at)
    assert _scripts(_bulk_ops(server)) == [(ad["current_version_id"], b.LAST_SEEN_SCRIPT),
                                           ("capture", "")]  # no version told "live"


def test_a_new_text_older_than_the_removal_makes_a_version_that_says_removed(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    _ad, gone = _removed_after(server, obs, enrichment)
    server.script[("GET", "/t-suppressions/_doc/")] = [(404, {"found": False})]  # none
    server.script[("PUT", "/t-versions-write/_create/")] = [(201, {"result": "created"})]
    changed = replace(obs, fields=replace(obs.fields, text=obs.fields.text + " (new)"))
    result = store_for(server).write(changed, enrichment)
    assert result.new_version and not result.reappeared
    [(_, _, body)] = [e for e in server.bodies if e[1].startswith("/t-versions-write/_create/")]
    made = json.loads(body)
    assert (made["status"], made["removed_at"], made["absences"]) == (
        "removed", to_iso(gone), [b.absence(gone)])
    assert _claimed_ad(server)["status"] == "removed"
    assert b.AD_STATE_SCRIPT not in {src for _, src in _scripts(_bulk_ops(server))}


def test_a_later_capture_of_another_text_closes_both_open_versions(
        server: Scripted, obs: Observation, enrichment: Any) -> None:
    ad = _script_ad(server, obs, enrichment, current_from_days=1, prev_open=True)
    changed = replace(obs, fields=replace(obs.fields, text=obs.fields.text + " (new)"))
    server.script[("GET", "/t-suppressions/_doc/")] = [(404, {"found": False})]  # none
    server.script[("PUT", "/t-versions-write/_create/")] = [(201, {"result": "created"})]
    result = store_for(server).write(changed, enrichment)
    ops = _bulk_ops(server)
    at, began = obs.capture.fetched_at, obs.capture.fetched_at - timedelta(days=1)
    closes = [(doc_id, doc["script"]["params"]["t"]) for verb, doc_id, doc in ops
              if verb == "update" and doc["script"]["source"] == b.CLOSE_VERSION_SCRIPT]
    assert closes == [("v-first", to_iso(began)), (ad["current_version_id"], to_iso(at))]
    assert result.new_version
