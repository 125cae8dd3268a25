"""Store contract: after a killed crawl, ``finish_cut_writes`` leaves no trace of the cut.

A kill stops a write part-way. SQLite rolls the write back whole; Elasticsearch, which has
no transactions, can keep a version created and never claimed, or a write claimed on the
ad whose capture record never came. The next crawl of the source calls
``finish_cut_writes`` before it writes: after that, on either backend, searches show no
text the ad does not have, and the ad's last seen is the time of a capture on record.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from contract_data import at, enr, obs
from test_contract_writes import CutShort, cut_next_write_short, status_counts

from indexer.model import Observation, ad_id_for
from indexer.search.parse import parse_args
from indexer.store.base import Mended


class _Archive:
    """The captures an archive holds, found by (URL, time) as indexer.archive.lookup
    finds them."""

    def __init__(self, *observations: Observation) -> None:
        self.known = {(o.url, o.capture.fetched_at): o.capture for o in observations}

    def capture_id(self, url, when):  # noqa: ANN001, ANN201
        capture = self.known.get((url, when))
        return capture.id if capture else None

    def capture(self, url, when):  # noqa: ANN001, ANN201
        return self.known.get((url, when))


def _finish(store, *observations: Observation) -> Mended:
    since = min(o.capture.fetched_at for o in observations) - timedelta(minutes=5)
    return store.finish_cut_writes("alpha", since, _Archive(*observations))


def _captures_behind_last_seen(store, site_ad_id: str) -> bool:
    """Whether the ad's last seen is the time of one of its recorded captures."""
    ad = store.get_ad(ad_id_for("alpha", site_ad_id))
    return ad.last_seen in {c.fetched_at for v in ad.versions for c in v.captures}


def test_a_version_cut_before_its_claim_is_never_found(store, monkeypatch):
    store.write(obs("alpha", "x1", at(1), "first text"), enr())
    second = obs("alpha", "x1", at(2), "second text")
    cut_next_write_short(store, monkeypatch, es_step="_claim")
    with pytest.raises(CutShort):
        store.write(second, enr())
    mended = _finish(store, second)
    assert mended.finished_writes == 0
    assert store.search(parse_args({"q": "second"})).total == 0
    assert store.search(parse_args({})).total == 1
    ad = store.get_ad(ad_id_for("alpha", "x1"))
    assert [v.fields.text for v in ad.versions] == ["first text"]
    assert store.stats()["versions"] == 1
    # the next fetch of the page writes the second text as the ad's second version
    again = store.write(obs("alpha", "x1", at(3), "second text"), enr())
    assert again.new_version
    assert [v.fields.text for v in store.get_ad(again.ad_id).versions] == [
        "first text", "second text"]


def test_a_new_ad_cut_before_its_claim_leaves_nothing(store, monkeypatch):
    first = obs("alpha", "n1", at(2), "brand new ad")
    cut_next_write_short(store, monkeypatch, es_step="_claim")
    with pytest.raises(CutShort):
        store.write(first, enr())
    _finish(store, first)
    assert store.search(parse_args({"q": "brand"})).total == 0
    assert store.stats()["versions"] == 0 and store.get_ad(ad_id_for("alpha", "n1")) is None


@pytest.mark.parametrize("text", ["second text", "first text"], ids=["new text", "same text"])
def test_a_write_cut_after_its_claim_gets_its_capture_on_record(store, monkeypatch, text):
    store.write(obs("alpha", "x1", at(1), "first text"), enr())
    cut = obs("alpha", "x1", at(2), text)
    cut_next_write_short(store, monkeypatch, es_step="_bulk")
    with pytest.raises(CutShort):
        store.write(cut, enr())
    _finish(store, cut)
    assert _captures_behind_last_seen(store, "x1")
    ad = store.get_ad(ad_id_for("alpha", "x1"))
    assert ad.current.last_seen == ad.last_seen
    assert status_counts(store) == {"live": 1}  # one current version: the one before closed
    # finishing again changes nothing; the same capture written again (a spool's replay)
    # is on record once: with the first capture, two
    before = store.stats()
    assert _finish(store, cut).finished_writes == 0
    assert store.stats() == before
    store.write(cut, enr())
    assert store.stats()["captures"] == 2


def test_nothing_to_finish_after_whole_writes(store):
    observations = [obs("alpha", "x1", at(1), "first text"), obs("alpha", "x1", at(2), "second"),
                    obs("alpha", "x2", at(2), "other ad")]
    for o in observations:
        store.write(o, enr())
    before = store.stats()
    assert _finish(store, *observations) == Mended()
    assert store.stats() == before


def test_an_ad_whose_capture_the_archive_lacks_is_left_as_it_is(store):
    seen = obs("alpha", "x1", at(2), "text")
    store.write(seen, enr())
    mended = store.finish_cut_writes("alpha", at(1), _Archive())
    assert mended.finished_writes == 0 and mended.dropped_versions == 0
    assert store.stats()["captures"] == 1
