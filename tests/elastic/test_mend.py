"""After a killed crawl: what ``finish_cut_writes`` asks of Elasticsearch and sends to it.

The scripted server (tests.elastic.scripted_server) plays the state a kill left; the
tests read the requests the store sends. The contract suite (test_contract_cut_writes)
checks the resulting store on a real server.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from indexer.model import Capture, Observation, to_iso
from indexer.store import elastic_bodies as b
from indexer.store import elastic_mend as m
from indexer.store.base import Mended, StoreError
from tests.elastic.scripted_server import Scripted, store_for


def _hits(*sources: dict[str, Any], sort_key: str) -> dict[str, Any]:
    return {"hits": {"hits": [{"_source": s, "sort": [s[sort_key]]} for s in sources]}}


NO_HITS: dict[str, Any] = {"hits": {"hits": []}}


def _mget(*docs: tuple[str, dict[str, Any] | None]) -> dict[str, Any]:
    return {"docs": [{"_id": i, "found": True, "_source": s} if s is not None
                     else {"_id": i, "found": False} for i, s in docs]}


def _bulks(srv: Scripted) -> list[list[tuple[str, str, dict[str, Any] | None]]]:
    """Per bulk request: (verb, document id, body or None for a delete) of each op."""
    out = []
    for _method, path, body in srv.bodies:
        if not path.startswith("/_bulk"):
            continue
        lines = iter(json.loads(line) for line in body.decode().splitlines() if line.strip())
        ops = []
        for action in lines:
            [(verb, meta)] = action.items()
            ops.append((verb, meta["_id"], None if verb == "delete" else next(lines)))
        out.append(ops)
    return out


def _searches(srv: Scripted) -> list[tuple[str, dict[str, Any]]]:
    return [(path.split("/")[1], json.loads(body)) for method, path, body in srv.bodies
            if path.endswith("/_search")]


class _Archive:
    """Captures by (URL, time), as indexer.archive.lookup finds them; says what was asked."""

    def __init__(self, *captures: Capture, readable: bool = True) -> None:
        self.known = {(c.url, c.fetched_at): c for c in captures}
        self.readable = readable
        self.read: list[tuple[str, Any]] = []  # (URL, time) of each whole capture asked for

    def capture_id(self, url: str, at: Any) -> str | None:
        capture = self.known.get((url, at))
        return capture.id if capture else None

    def capture(self, url: str, at: Any) -> Capture | None:
        self.read.append((url, at))
        return self.known.get((url, at)) if self.readable else None


def test_bodies_read_only_what_the_killed_crawl_can_have_left(obs: Observation) -> None:
    since = obs.capture.fetched_at
    versions = m.unclaimed_candidates_body("demo-a", since, after=["v9"], size=50)
    assert versions["query"]["bool"]["filter"] == [
        {"term": {"source_id": "demo-a"}}, {"term": {"is_current": True}},
        {"range": {"valid_from": {"gte": to_iso(since)}}}]
    assert versions["search_after"] == ["v9"] and versions["size"] == 50
    assert versions["sort"] == [{"version_id": "asc"}]
    ads = m.seen_since_body("demo-a", since)
    assert ads["query"]["bool"]["filter"][1] == {"range": {"last_seen": {"gte": to_iso(since)}}}
    assert "search_after" not in ads and ads["sort"] == [{"ad_id": "asc"}]
    assert m.probe_docs("t-captures", ["c1"]) == [
        {"_index": "t-captures", "_id": "c1", "_source": False}]


def test_unclaimed_are_the_versions_their_ad_does_not_list() -> None:
    versions = [{"version_id": "v1", "ad_id": "a"}, {"version_id": "v2", "ad_id": "a"},
                {"version_id": "v3", "ad_id": "gone"}]
    assert m.unclaimed(versions, {"a": {"version_ids": ["v1"]}, "gone": None}) == ["v2", "v3"]
    assert m.unclaimed(versions[:1], {"a": {"version_ids": ["v1"]}}) == []


def test_a_version_no_ad_claims_is_deleted_and_a_claimed_one_kept(server: Scripted,
                                                                  obs: Observation) -> None:
    since = obs.capture.fetched_at - timedelta(hours=1)
    server.script[("POST", "/t-versions/_search")] = [
        (200, _hits({"version_id": "v-cut", "ad_id": "ad-a"},
                    {"version_id": "v-new-ad", "ad_id": "ad-b"},
                    {"version_id": "v-kept", "ad_id": "ad-c"}, sort_key="version_id")),
        (200, NO_HITS)]
    server.script[("POST", "/_mget")] = [(200, _mget(
        ("ad-a", {"version_ids": ["v-old"]}), ("ad-b", None),
        ("ad-c", {"version_ids": ["v-old-c", "v-kept"]})))]
    server.script[("POST", "/t-ads/_search")] = [(200, NO_HITS)]
    mended = store_for(server).finish_cut_writes("demo-a", since, _Archive())
    assert mended == Mended(dropped_versions=2)
    assert _bulks(server) == [[("delete", "v-cut", None), ("delete", "v-new-ad", None)]]
    kinds = [kind for kind, _ in _searches(server)]
    assert kinds == ["t-versions", "t-versions", "t-ads"]  # two pages of versions, then ads
    assert _searches(server)[1][1]["search_after"] == ["v-kept"]
    paths = [path for _m, path, _a in server.log]
    first_search = next(i for i, path in enumerate(paths) if path.endswith("/_search"))
    # the killed crawl's last writes are made searchable before the first search
    assert any("/_refresh" in path for path in paths[:first_search])


def _cut_after_claim(server: Scripted, obs: Observation, capture_recorded: bool) -> dict:
    """An ad of two versions whose last write (of obs, the second version) claimed and
    was cut: the version before open, the capture record there or not."""
    at = obs.capture.fetched_at
    ad = {"ad_id": obs.ad_id, "url": obs.url, "last_seen": to_iso(at),
          "current_version_id": "v2", "version_ids": ["v1", "v2"], "absences": [],
          "removed_at": None}
    server.script[("POST", "/t-versions/_search")] = [(200, NO_HITS)]
    server.script[("POST", "/t-ads/_search")] = [(200, _hits(ad, sort_key="ad_id")),
                                                 (200, NO_HITS)]
    states = [("v1", {"valid_from": to_iso(at - timedelta(days=3)), "valid_to": None,
                      "status": "live"}),
              ("v2", {"valid_from": to_iso(at), "valid_to": None, "status": "live"})]
    server.script[("POST", "/_mget")] = [
        (200, _mget((obs.capture.id, {} if capture_recorded else None))),
        (200, _mget(*states))]
    return ad


def _mend(server: Scripted, obs: Observation, archive: _Archive) -> Mended:
    """finish_cut_writes of demo-a from an hour before ``obs`` was taken."""
    since = obs.capture.fetched_at - timedelta(hours=1)
    return store_for(server).finish_cut_writes("demo-a", since, archive)


def test_a_write_cut_after_its_claim_is_finished_from_the_archive(server: Scripted,
                                                                  obs: Observation) -> None:
    _cut_after_claim(server, obs, capture_recorded=False)
    archive = _Archive(obs.capture)
    mended = _mend(server, obs, archive)
    assert mended == Mended(finished_writes=1)
    assert archive.read == [(obs.url, obs.capture.fetched_at)]
    # the follow-ups, then the capture record alone: the record says the write is whole
    follow_ups, record = _bulks(server)
    assert [(verb, doc_id) for verb, doc_id, _ in follow_ups] == [("update", "v1"),
                                                                  ("update", "v2")]
    assert follow_ups[0][2] == b.close_version_update(obs.capture.fetched_at)
    assert follow_ups[1][2] == b.last_seen_update(obs.capture.fetched_at)
    assert record == [("create", obs.capture.id,
                       b.capture_doc(obs.capture, obs.ad_id, "v2", "demo-a"))]
    ads_pages = [body for kind, body in _searches(server) if kind == "t-ads"]
    assert [page.get("search_after") for page in ads_pages] == [None, [obs.ad_id]]


def test_follow_ups_refused_leave_the_capture_unrecorded_so_the_mend_is_owed(
        server: Scripted, obs: Observation) -> None:
    _cut_after_claim(server, obs, capture_recorded=False)
    server.script[("PUT", "/_bulk")] = [(200, {"errors": True, "items": [
        {"update": {"status": 400}}, {"update": {"status": 400}}]})]
    with pytest.raises(StoreError, match="bulk refused"):
        _mend(server, obs, _Archive(obs.capture))
    assert [[verb for verb, _, _ in ops] for ops in _bulks(server)] == [["update", "update"]]


def test_a_write_whose_capture_is_on_record_is_left_alone(server: Scripted,
                                                          obs: Observation) -> None:
    _cut_after_claim(server, obs, capture_recorded=True)
    archive = _Archive(obs.capture)
    mended = _mend(server, obs, archive)
    assert mended == Mended() and _bulks(server) == []
    assert archive.read == []  # no WARC record is read for a capture on record


@pytest.mark.parametrize("archive", [_Archive(), None], ids=["not archived", "unreadable"])
def test_an_ad_whose_capture_cannot_be_had_is_counted_and_left(
        server: Scripted, obs: Observation, archive: _Archive | None) -> None:
    _cut_after_claim(server, obs, capture_recorded=False)
    mended = _mend(server, obs, archive or _Archive(obs.capture, readable=False))
    assert mended == Mended(not_in_archive=1) and _bulks(server) == []


def test_a_removed_ad_is_not_told_it_is_live(obs: Observation) -> None:
    at = obs.capture.fetched_at
    ad = {"ad_id": obs.ad_id, "source_id": "demo-a", "current_version_id": "v1",
          "version_ids": ["v1"], "absences": [b.absence(at + timedelta(days=1))],
          "removed_at": to_iso(at + timedelta(days=1))}
    states = [{"valid_from": to_iso(at), "valid_to": None, "status": "removed"}]
    follow_ups, record = m.finishing_ops(ad, states, obs.capture)
    assert [(verb, doc_id) for verb, _, doc_id, _ in follow_ups] == [("update", "v1")]
    assert follow_ups[0][3] == b.last_seen_update(at)  # the last seen, nothing told
    assert record[:3] == ("create", "captures", obs.capture.id)
    live, _ = m.finishing_ops({**ad, "removed_at": None}, states, obs.capture)
    assert len(live) == 2  # told live, then the last seen
    assert live[0][3] == b.ad_state_update("live", None, ad["absences"])
