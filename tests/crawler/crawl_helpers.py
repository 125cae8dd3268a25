"""Run one real crawl of a source in a child process and return its items and stats.

Kept out of conftest.py so tests import it by a unique module name (several test
folders have a conftest module, and ``from conftest import`` finds whichever came first).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crawler.register import source_to_dict
from crawler.source import Source

REPO = Path(__file__).resolve().parents[2]


def collect(source: Source, archive_dir: Path, **job: Any) -> dict[str, Any]:
    """Crawl ``source`` in a child process; return its items and stats."""
    payload = {"source": source_to_dict(source), "archive_dir": str(archive_dir), **job}
    return run_child("tests.crawler.collect_items", payload)


def run_child(module: str, job: dict[str, Any]) -> Any:
    """Run ``module`` in a child process (Scrapy's reactor runs once per process) with
    ``job`` as JSON on its stdin; return the JSON of its last line of output."""
    proc = subprocess.run([sys.executable, "-m", module], input=json.dumps(job),
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ad_ids(result: dict[str, Any]) -> set[str]:
    """The last path segment of every ad page a crawl read (the fixture's ad ids)."""
    return {i["url"].rsplit("/", 1)[-1] for i in result["items"] if i["kind"] == "AdItem"}


def warc_bytes(archive: Path) -> bytes:
    """Every WARC record of an archive, uncompressed: to look for what must not be there."""
    return b"".join(gzip.decompress(p.read_bytes()) for p in sorted(archive.rglob("*.warc.gz")))


DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the first simulated day of a series of runs


def crawl_day(source: Source, tmp_path: Path, day: int, progress: bool = False) -> Any:
    """One real crawl of ``source`` into ``tmp_path``'s store and archive on simulated
    ``day`` (from DAY0, at 09:00); its SourceStats. ``progress``: the crawl processes'
    messages go to this process's stderr."""
    from crawler.run import crawl

    stats = crawl([source], str(tmp_path / "s.sqlite3"), tmp_path / "archive",
                  clock=DAY0 + timedelta(days=day), progress=progress,
                  settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0}, timeout=120)
    return stats.sources[source.id]


def photo_names(source: Source, tmp_path: Path, site_ad_id: str) -> list[list[str]]:
    """The file names of an ad's photos in ``tmp_path``'s store, per version, oldest
    first."""
    from indexer.model import ad_id_for
    from indexer.store import open_store

    store = open_store(str(tmp_path / "s.sqlite3"))
    try:
        ad = store.get_ad(ad_id_for(source.id, site_ad_id))
        assert ad is not None
        return [[i.source_url.rsplit("/", 1)[-1] for i in v.fields.images]
                for v in ad.versions]
    finally:
        store.close()


def start_crawl_child(job: dict[str, Any]) -> subprocess.Popen[str]:
    """The crawl child (``python -m crawler.process``) started on ``job``, as
    ``crawler.run`` starts it, for a test that kills it: its output is not read."""
    from crawler.run import child_command

    cmd, env = child_command()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, text=True)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(job))
    proc.stdin.close()
    return proc


def titles_of(store_path: Path, source: Source, site_ad_id: str) -> list[str]:
    """The titles of an ad's versions in the store, oldest first."""
    from indexer.model import ad_id_for
    from indexer.store import open_store

    store = open_store(str(store_path))
    try:
        ad = store.get_ad(ad_id_for(source.id, site_ad_id))
        assert ad is not None
        return [v.fields.title for v in ad.versions]
    finally:
        store.close()


def journal_records(archive: Path) -> list[dict[str, Any]]:
    """Every whole line of the archive's crawl journals (crawler.journal), file by file; a
    line a kill cut short is left out."""
    out = []
    for path in sorted((archive / "crawling").glob("*.journal.jsonl")):
        for raw in path.read_bytes().splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                continue
    return out
