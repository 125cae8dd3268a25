"""The sections that listed an ad (``listed_in``) on Elasticsearch: the bodies, and the
store's requests to a scripted server (no Elasticsearch runs on the build machine; the
contract suite covers a real one)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from indexer.model import Observation, ad_id_for, to_iso
from indexer.store import elastic_bodies as b
from tests.elastic.scripted_server import Scripted, store_for
from tests.elastic.test_interrupted_write import _found, _script_ad

ADS_PROPS = b.load_mapping("ads")["mappings"]["properties"]


def test_listed_in_is_mapped_from_ads_version_2_and_its_script_writes_only_it() -> None:
    assert b.mapping_version("ads") >= 2
    assert ADS_PROPS["listed_in"]["type"] == "keyword"
    assert set(re.findall(r"ctx\._source\.(\w+)", b.LISTED_IN_SCRIPT)) == {"listed_in"}
    body = b.listed_in_update(["Utrecht", "Amsterdam", "Utrecht"])
    assert body["script"]["params"] == {"sections": ["Amsterdam", "Utrecht"]}
    assert "ctx.op = 'noop'" in body["script"]["source"]  # nothing new: no new seq_no


def test_live_ads_read_the_sections_and_take_an_ad_without_them() -> None:
    assert "listed_in" in b.live_ads_body("demo", 1000, None)["_source"]
    src = {"site_ad_id": "7", "url": "https://x.test/ad/7", "last_seen": "2026-11-01T00:00:00Z"}
    assert b.live_ad_from(src).listed_in == ()  # a version-1 ads index has none
    ad = b.live_ad_from({**src, "listed_in": ["Utrecht", "Amsterdam"]})
    assert ad.listed_in == ("Amsterdam", "Utrecht")
    assert ad.last_seen == datetime(2026, 11, 1, tzinfo=UTC)


def _alias(server: Scripted, index: str) -> None:
    server.script[("GET", "/_alias/t-ads-write")] = [(200, {
        index: {"aliases": {"t-ads-write": {"is_write_index": True}, "t-ads": {}}}})]


def _bulks(server: Scripted) -> list[list[dict]]:
    return [[json.loads(line) for line in body.splitlines() if line.strip()]
            for method, path, body in server.bodies if path.startswith("/_bulk")]


def test_the_store_sends_one_scripted_update_per_ad_and_counts_those_updated(
        server: Scripted) -> None:
    _alias(server, "t-ads-v2")
    server.script[("PUT", "/_bulk")] = [(200, {"errors": True, "items": [
        {"update": {"status": 200, "result": "updated"}},
        {"update": {"status": 200, "result": "noop"}},
        {"update": {"status": 404, "error": {"type": "document_missing_exception"}}}]})]
    store = store_for(server)
    gained = store.note_listed("s", {"2": ["Amsterdam"], "1": ["Utrecht"], "9": ["Utrecht"]})
    assert gained == 1  # one updated; a noop gained nothing; an unknown ad is passed over
    [lines] = _bulks(server)
    assert [line["update"]["_id"] for line in lines[::2]] == [
        ad_id_for("s", i) for i in ("1", "2", "9")]
    assert {line["update"]["_index"] for line in lines[::2]} == {"t-ads-write"}
    # a write or an assessment of the ad meanwhile: Elasticsearch reads it again
    assert {line["update"]["retry_on_conflict"] for line in lines[::2]} == {5}
    assert lines[1]["script"]["params"]["sections"] == ["Utrecht"]


def test_an_ads_index_not_yet_migrated_is_not_written(server: Scripted) -> None:
    """A strict version-1 ads index would refuse listed_in: nothing is sent (until
    ``adtrace index migrate``), and removals by absence go by the listings alone."""
    _alias(server, "t-ads-v1")
    store = store_for(server)
    assert store.note_listed("s", {"1": ["Utrecht"]}) == 0
    assert _bulks(server) == []


def test_a_write_keeps_the_sections_of_the_ad(server: Scripted, obs: Observation,
                                              enrichment: Any) -> None:
    """The ad document a write claims is built anew (elastic_bodies.ad_doc); the sections
    are not the write's to change, and are carried over from the ad as read."""
    ad = _script_ad(server, obs, enrichment, current_from_days=1, prev_open=False)
    server.script[("GET", "/t-ads/_doc/")] = [(200, _found(obs.ad_id, {
        **ad, "listed_in": ["Amsterdam", "Utrecht"]}))]
    store_for(server).write(obs, enrichment)
    [claim] = [json.loads(body) for method, path, body in server.bodies
               if method == "PUT" and path.startswith(f"/t-ads-write/_doc/{obs.ad_id}")]
    assert claim["listed_in"] == ["Amsterdam", "Utrecht"]
    assert claim["last_seen"] == to_iso(obs.capture.fetched_at)  # the write's own fields
