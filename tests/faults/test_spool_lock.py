"""Several processes share one spool: a line appended while another replays is kept."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from indexer.ingest import Ingestor
from indexer.model import SourceInfo
from indexer.spool import Spool
from indexer.store.sqlite import SqliteStore

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class _AppendsMeanwhile(Ingestor):
    """The real ingestor; while it writes the first spooled line, another writer (a
    thread with its own Spool of the same file, as another worker would be) appends."""

    def __init__(self, store: SqliteStore, path: Path) -> None:
        super().__init__(store, enricher=object())
        self.path, self.appended = path, threading.Event()
        self.other: threading.Thread | None = None

    def register_source(self, info: SourceInfo) -> None:
        if self.other is None:
            def append() -> None:
                Spool(self.path).add_removal("beta", "late", AT, "gone")
                self.appended.set()

            self.other = threading.Thread(target=append)
            self.other.start()
            # unlocked, the append lands now and the replay's rewrite would drop it;
            # locked, it waits for the replay to end (this wait then runs out)
            self.appended.wait(timeout=1.0)
        super().register_source(info)


def test_a_line_appended_during_a_replay_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "spool.jsonl"
    spool = Spool(path)
    spool.add_source(SourceInfo("alpha", "Alpha", "trafficking", "NL", "http://alpha.test"))
    spool.add_removal("alpha", "a1", AT, "gone")
    store = SqliteStore(tmp_path / "s.sqlite3")
    try:
        ingestor = _AppendsMeanwhile(store, path)
        result = spool.replay(ingestor)
        assert ingestor.other is not None
        ingestor.other.join(timeout=30)
    finally:
        store.close()
    assert (result.replayed, result.left) == (2, 0)
    assert ingestor.appended.is_set()
    kept = Spool(path).lines()
    assert len(kept) == 1 and '"site_ad_id": "late"' in kept[0]
