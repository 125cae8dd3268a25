"""Run a crawl in a child process and return what it did, per source.

``crawl()`` is what the CLI, the demo and the tests call. The child
(``crawler.process``) gets a JSON job; its fetch times come from ``clock`` (a start
time; fetch time = start + elapsed) so the demo can simulate days.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.interrupts import KILLS_AT, HeldInterrupts, NotStarted
from crawler.register import source_to_dict
from crawler.source import Source
from indexer.crawl_runs import kinds_text, ordered_kinds
from indexer.model import to_iso

REPO_ROOT = Path(__file__).resolve().parent.parent


# The per-source counters (Scrapy stats ``adtrace/<key>``), in report order. The last,
# ``not_due``, is left out of the one-line progress summaries.
STAT_KEYS = ("pages", "ads_seen", "new_ads", "new_versions", "unchanged", "removed", "errors",
             "not_due")
SUMMARY_KEYS = STAT_KEYS[:-1]


# A photo's hash is small matrix products (indexer.archive.phash), and numpy's OpenBLAS
# shares out those above its threshold among a thread per core that spins while it
# waits: a second core's worth of CPU taken from the crawl for no gain (an end-to-end
# crawl_bench run went from 7.7 to 15.4 CPU ms per ad). The crawl processes and their
# ingest workers (crawler.ingest_worker) run it on one thread.
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class CrawlError(RuntimeError):
    """The crawl process failed as a whole (not one page: those are counted as errors)."""


class CrawlInterrupted(KeyboardInterrupt):
    """Ctrl-C came while crawling, and the crawl processes have stopped (gracefully on
    one Ctrl-C, at once on two: crawler.interrupts); ``stats`` says what they did,
    ``failure`` why a crawl process failed meanwhile (then ``stats`` is empty)."""

    def __init__(self, stats: CrawlStats, ctrl_cs: int, failure: str = "") -> None:
        super().__init__("interrupted")
        self.stats = stats
        self.ctrl_cs = ctrl_cs
        self.failure = failure


@dataclass(frozen=True)
class SourceStats:
    source_id: str
    pages: int = 0
    ads_seen: int = 0
    new_ads: int = 0
    new_versions: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: int = 0
    not_due: int = 0  # known ads the listings showed, not refetched (interval not passed)
    spooled: int = 0  # ads (counted seen) and removals kept in the spool: the store was down
    skipped: int = 0  # ad pages robots.txt forbids (obeyed: no error)
    error_kinds: dict[str, int] = field(default_factory=dict)  # errors by kind, as counted
    duration: float = 0.0
    finish_reason: str = ""
    refused: str = ""  # why the source was not crawled (another crawl of it under way)


@dataclass(frozen=True)
class CrawlStats:
    sources: dict[str, SourceStats] = field(default_factory=dict)
    duration: float = 0.0

    def total(self, key: str) -> int:
        return sum(int(getattr(s, key)) for s in self.sources.values())

    def summary(self) -> str:
        """Totals over all sources on one line (for the demo's day-by-day report)."""
        return " ".join(f"{k}={self.total(k)}" for k in SUMMARY_KEYS) + f" in {self.duration:.1f}s"

    def refused(self) -> dict[str, str]:
        """Sources not crawled, with why (crawler.source_lock)."""
        return {sid: s.refused for sid, s in self.sources.items() if s.refused}

    def unreached(self) -> dict[str, str]:
        """Sources whose run got no ad from the site, with why: it counted errors and saw
        no ad, listed no known one and removed none, not even into the spool (the site or
        the proxy down, every page refused, a listing gone). Such a run is a failure to
        whoever runs the crawl (cron, a script); a site with no ads and no errors is not."""
        return {sid: "no ad seen, listed or removed this run: " + _figure(s, "errors")
                for sid, s in self.sources.items()
                if not s.refused and s.errors
                and not (s.ads_seen or s.not_due or s.removed or s.spooled)}

    def lines(self) -> list[str]:
        """One human-readable line per source, for the CLI."""
        return [f"{sid}: not crawled: {s.refused}" if s.refused else
                f"{sid}: " + " ".join(_figure(s, k) for k in STAT_KEYS)
                + (f" skipped={s.skipped} (robots.txt)" if s.skipped else "")
                + (f" spooled={s.spooled}" if s.spooled else "")
                + f" duration={s.duration:.1f}s" for sid, s in self.sources.items()]


def _figure(stats: SourceStats, key: str) -> str:
    """``key=value``; the errors with their kinds: ``errors=3 (timeout 1, http 2)``."""
    text = f"{key}={getattr(stats, key)}"
    if key == "errors" and stats.error_kinds:
        text += f" ({kinds_text(ordered_kinds(stats.error_kinds))})"
    return text


def crawl(sources: Iterable[Source], store_url: str, archive_dir: str | Path, *,
          clock: datetime | None = None, progress: bool = True,
          known_ads: Mapping[str, Sequence[Sequence[Any]]] | None = None,
          settings: Mapping[str, Any] | None = None, timeout: float | None = None,
          processes: int | None = None) -> CrawlStats:
    """Crawl ``sources`` into the store and the archive, in child processes.

    Sources are independent, so they are spread over up to ``processes`` children
    (default: one per CPU core) that run at the same time: one Scrapy process uses one
    core. ``known_ads`` (source id → (site_ad_id, url[, last seen ISO[, sections]]))
    overrides the live ads read from the store; ``settings`` overrides Scrapy settings
    (tests shorten timeouts).
    """
    sources = list(sources)
    if not sources:
        return CrawlStats()
    n = max(1, min(len(sources), processes or os.cpu_count() or 1))
    groups = [sources[i::n] for i in range(n)]
    jobs = [crawl_job(g, store_url, archive_dir, clock=clock, progress=progress,
                      known_ads=known_ads, settings=settings) for g in groups]
    with HeldInterrupts() as held:  # Ctrl-C: the crawl processes stop gracefully
        try:
            stats = _run_children(sources, jobs, progress, timeout, held)
        except CrawlError as exc:
            if held.ctrl_cs >= KILLS_AT:  # they were killed: not a failure of theirs
                raise CrawlInterrupted(CrawlStats(), held.ctrl_cs) from exc
            if not held.raise_after:
                raise
            raise CrawlInterrupted(CrawlStats(), held.ctrl_cs, str(exc)) from exc
    if held.raise_after:  # the KeyboardInterrupt held back while they stopped
        raise CrawlInterrupted(stats, held.ctrl_cs)
    return stats


def _run_children(sources: Sequence[Source], jobs: Sequence[dict[str, Any]], progress: bool,
                  timeout: float | None, held: HeldInterrupts) -> CrawlStats:
    """The jobs' crawl processes, run at the same time; their stats, per source."""
    if len(jobs) == 1:
        return _run_child(jobs[0], progress, timeout, held)
    started = datetime.now().timestamp()
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(
            lambda job: _run_child(job, progress, timeout, held), jobs))
    merged: dict[str, SourceStats] = {}
    for result in results:
        merged.update(result.sources)
    return CrawlStats(sources={s.id: merged[s.id] for s in sources if s.id in merged},
                      duration=datetime.now().timestamp() - started)


def crawl_job(sources: Sequence[Source], store_url: str, archive_dir: str | Path, *,
              clock: datetime | None = None, progress: bool = True,
              known_ads: Mapping[str, Sequence[Sequence[Any]]] | None = None,
              settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON job the child process (``child_command()``) reads on stdin."""
    Path(archive_dir).mkdir(parents=True, exist_ok=True)
    job: dict[str, Any] = {
        "sources": [source_to_dict(s) for s in sources],
        "store_url": store_url,
        "archive_dir": str(Path(archive_dir).resolve()),
        "clock_start": to_iso(clock) if clock else "",
        "progress": progress,
        "settings": dict(settings or {}),
    }
    if known_ads is not None:
        job["known_ads"] = {k: [list(x) for x in v] for k, v in known_ads.items()}
    return job


def child_command() -> tuple[list[str], dict[str, str]]:
    """The crawl child's command line and environment."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env.update(ONE_BLAS_THREAD)
    return [sys.executable, "-m", "crawler.process"], env


def _run_child(job: dict[str, Any], progress: bool, timeout: float | None,
               held: HeldInterrupts) -> CrawlStats:
    cmd, env = child_command()
    job = {**job, "parent_pid": os.getpid()}  # the child stops if this process is killed
    started = datetime.now().timestamp()
    try:
        proc = held.start(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=None if progress else subprocess.PIPE, env=env, text=True)
    except NotStarted as exc:  # Ctrl-C came first
        return _not_begun(job, str(exc))
    try:
        stdout, stderr = proc.communicate(json.dumps(job), timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.communicate()
        raise CrawlError(f"crawl of {_ids(job)} did not finish within {timeout}s") from exc
    except BaseException:  # as subprocess.run: no crawl process left behind unwatched
        proc.kill()
        proc.wait()
        raise
    finally:
        held.ended(proc)
    duration = datetime.now().timestamp() - started
    if proc.returncode != 0:
        tail = (stderr or "")[-2000:] if not progress else "(see messages above)"
        raise CrawlError(f"crawl of {_ids(job)} failed (exit {proc.returncode}): {tail}")
    try:
        data = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise CrawlError(f"crawl of {_ids(job)} gave no stats: {stdout[-500:]!r}") from exc
    return CrawlStats(
        sources={sid: SourceStats(source_id=sid, **vals) for sid, vals in data.items()},
        duration=duration,
    )


def _not_begun(job: dict[str, Any], why: str) -> CrawlStats:
    """The stats of a job whose sources were not crawled, with why."""
    return CrawlStats(sources={s["id"]: SourceStats(source_id=s["id"], refused=why)
                               for s in job["sources"]})


def _ids(job: dict[str, Any]) -> str:
    return ", ".join(s["id"] for s in job["sources"])
