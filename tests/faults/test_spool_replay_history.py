"""Faults: a spool replayed into a store whose ads moved on meanwhile writes each ad's
history in the order it was seen, however often it is replayed.

A replay writes its lines, then rewrites the spool; killed in between, the whole spool
is replayed again by the next crawl (writes are idempotent), removals included.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from contract_data import at, obs

from indexer.ingest import Ingestor
from indexer.model import AdFields, AdRecord, Enrichment, SourceInfo, ad_id_for
from indexer.search.parse import parse_args
from indexer.spool import Spool
from indexer.store.sqlite import SqliteStore

ALPHA = SourceInfo("alpha", "Alpha", "trafficking", "NL", "http://alpha.test")


class NoEnrichment:
    """The enricher's place, for a replay whose enrichment does not matter."""

    def enrich(self, fields: AdFields, country: str) -> Enrichment:
        return Enrichment()

    def enrich_many(self, items: Iterable[tuple[AdFields, str]]) -> list[Enrichment]:
        return [Enrichment() for _ in items]


class Killed(BaseException):
    """SIGKILL: the process ends here (no except clause of the code under test runs)."""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "s.sqlite3")
    yield s
    s.close()


@pytest.fixture
def ingestor(store: SqliteStore) -> Ingestor:
    """Ad a1 of source alpha, live in the store since day 1."""
    ing = Ingestor(store, enricher=NoEnrichment())
    ing.register_source(ALPHA)
    ing.ingest(obs("alpha", "a1", at(1), "hello"))
    return ing


def _a1(store: SqliteStore) -> AdRecord:
    ad = store.get_ad(ad_id_for("alpha", "a1"))
    assert ad is not None
    return ad


def _replay_killed_before_its_rewrite(spool: Spool, ingestor: Ingestor,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Replay every line of ``spool``, then die before rewriting it: it stays whole."""
    def killed(self: Spool, keep: list[bytes]) -> None:
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(Spool, "_rewrite", killed)
        with pytest.raises(Killed):
            spool.replay(ingestor)


def test_a_spool_replayed_again_after_a_kill_leaves_the_ad_that_came_back_live(
        tmp_path: Path, store: SqliteStore, ingestor: Ingestor,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the store was down for two crawls: the ad was gone (404) on day 2, back on day 3
    spool = Spool(tmp_path / "spool.jsonl")
    spool.add_source(ALPHA)
    spool.add_removal("alpha", "a1", at(2), "http 404")
    spool.add(obs("alpha", "a1", at(3), "hello"))
    _replay_killed_before_its_rewrite(spool, ingestor, monkeypatch)
    assert _a1(store).removed_at is None
    assert len(spool) == 3  # the next crawl replays it all again
    result = spool.replay(ingestor)
    assert (result.replayed, result.left) == (3, 0)
    ad = _a1(store)
    assert ad.removed_at is None, (ad.removed_at, ad.removed_reason)
    assert ad.last_seen == at(3)
    assert [a.site_ad_id for a in store.live_ads("alpha")] == ["a1"]
    # one absence, day 2 to day 3: the ad counts as online on day 4
    assert store.search(parse_args({"as_of": at(4).date().isoformat()})).total == 1
    assert store.search(parse_args({"as_of": at(2).date().isoformat()})).total == 0


def test_an_observation_spooled_before_a_removal_is_history_and_not_a_return(
        tmp_path: Path, store: SqliteStore, ingestor: Ingestor) -> None:
    # a run's write of the revisited ad failed (spooled); at the run's end the ad, missing
    # from its complete listings, was removed by absence in the store, which was back
    spool = Spool(tmp_path / "spool.jsonl")
    spool.add(obs("alpha", "a1", at(2), "hello"))
    gone = at(2, 12, 30)
    assert store.mark_removed("alpha", "a1", gone, "missing from complete listings")
    assert spool.replay(ingestor).left == 0  # the next crawl opens the store
    ad = _a1(store)
    assert ad.removed_at == gone, "a capture from before the removal brought the ad back"
    assert ad.removed_reason == "missing from complete listings"
    assert [c.fetched_at for c in ad.versions[0].captures] == [at(1), at(2)]  # kept
    assert ad.last_seen == at(2) and store.live_ads("alpha") == []
