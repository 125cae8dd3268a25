"""The ingest worker process: images completed, ads enriched and stored, in order; it
dies with the crawl process; what it did not confirm can be done again."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from crawler.ingest_core import IngestCore, complete_image
from crawler.ingest_worker import WorkerClient, WorkerGone
from crawler.items import AdItem, RemovalItem
from indexer.archive import find_image
from indexer.archive.digest import sha256_hex
from indexer.model import AdFields, Capture, ImageRef, ad_id_for
from indexer.store import open_store

REPO = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
INFO = {"id": "wk", "name": "Worker test", "theme": "escort", "country": "NL",
        "base_url": "http://wk.test/"}


def _png(colour: tuple[int, int, int]) -> bytes:
    img = Image.new("RGB", (64, 48), colour)
    img.paste((255 - colour[0], 30, 200), (10, 10, 40, 30))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _ad(n: int, images: list[bytes], with_bodies: bool = True) -> AdItem:
    url = f"http://wk.test/ad/{n}"
    refs = tuple(ImageRef(sha256=sha256_hex(b), source_url=f"http://wk.test/img/{sha256_hex(b)[:8]}",
                          content_type="image/png") for b in images)
    capture = Capture(url=url, fetched_at=AT, status=200, sha256=sha256_hex(url.encode()),
                      warc_file="warcs/x.warc.gz", warc_offset=n, warc_length=1)
    fields = AdFields(title=f"Ad {n}", text=f"Bel 06-1234567{n % 10} voor een afspraak",
                      attributes={"city": "Utrecht"}, images=refs)
    bodies = {r.sha256: b for r, b in zip(refs, images, strict=True)} if with_bodies else {}
    return AdItem("wk", str(n), url, capture, fields, images_pending=True, image_bodies=bodies)


def _config(tmp_path: Path) -> dict:
    return {"store_url": str(tmp_path / "s.sqlite3"), "archive_dir": str(tmp_path / "archive"),
            "spool": str(tmp_path / "spool.jsonl"), "source_info": INFO}


def test_worker_completes_images_enriches_and_stores_in_order(tmp_path: Path) -> None:
    red, blue = _png((200, 10, 10)), _png((10, 10, 200))
    worker = WorkerClient(_config(tmp_path))
    assert worker.wait_ready() == ("", False)
    outcomes: list = []
    worker.submit(("ads", [_ad(1, [red, blue])]))
    # the same image again without its bytes: an earlier ad of the run carried them
    worker.submit(("ads", [_ad(2, [red], with_bodies=False)]))
    worker.submit(("removal", RemovalItem("wk", "1", "http://wk.test/ad/1", AT, "http 404")))
    outcomes += worker.poll()
    worker.finish(outcomes.append)
    assert worker.proc.returncode == 0
    counts: dict[str, int] = {}
    for outcome in outcomes:
        assert outcome.errors == []
        for k, n in outcome.counts.items():
            counts[k] = counts.get(k, 0) + n
    assert counts == {"ads_seen": 2, "new_ads": 2, "removed": 1}
    store = open_store(str(tmp_path / "s.sqlite3"))
    try:
        one, two = store.get_ad(ad_id_for("wk", "1")), store.get_ad(ad_id_for("wk", "2"))
    finally:
        store.close()
    assert one is not None and one.removed_at is not None
    images = one.versions[-1].fields.images
    assert [i.sha256 for i in images] == [sha256_hex(red), sha256_hex(blue)]
    assert all(len(i.phash) == 16 and (i.width, i.height) == (64, 48) for i in images)
    assert all(find_image(tmp_path / "archive", i.sha256) is not None for i in images)
    assert two is not None and two.versions[-1].fields.images[0] == images[0]
    assert one.versions[-1].enrichment.phones  # enriched in the worker


def test_the_worker_runs_blas_on_one_thread_whatever_the_crawl_was_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A photo's hash is matrix products; OpenBLAS would spin a thread per core on them,
    taking a core from the crawl (ingest_worker.ONE_BLAS_THREAD)."""
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "8")
    worker = WorkerClient(_config(tmp_path))
    try:
        assert worker.wait_ready() == ("", False)
        environ = Path(f"/proc/{worker.proc.pid}/environ").read_bytes().split(b"\0")
    finally:
        worker.finish(lambda _outcome: None)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        assert f"{name}=1".encode() in environ, name
    assert b"OPENBLAS_NUM_THREADS=8" not in environ


def test_a_worker_replaying_the_spool_says_how_far_it_is(tmp_path: Path) -> None:
    """A replay tells the crawl it is at work (about once a second, and at its end):
    wait_ready bounds the silence, not a long replay, which is not cut off and done
    again in the crawl process."""
    from indexer.model import SourceInfo
    from indexer.spool import Spool

    spool = Spool(tmp_path / "spool.jsonl")
    spool.add_source(SourceInfo(**INFO))
    for n in range(40):
        spool.add_removal("wk", f"gone-{n}", AT, "http 404")
    worker = WorkerClient(_config(tmp_path))
    try:
        line, spooling = worker.wait_ready()
        assert not spooling and "replayed 41, 0 left" in line
        assert worker.replayed == (41, 41)
    finally:
        worker.close()
    assert len(spool) == 0


def test_worker_that_fails_to_open_is_reported_not_hung(tmp_path: Path) -> None:
    bad = dict(_config(tmp_path), source_info={"id": "x"})  # not a SourceInfo
    worker = WorkerClient(bad)
    with pytest.raises(WorkerGone, match="could not start"):
        worker.wait_ready(timeout=60)
    worker.close()


def test_a_killed_worker_leaves_its_unconfirmed_work_to_be_done_again(tmp_path: Path) -> None:
    worker = WorkerClient(_config(tmp_path))
    worker.wait_ready()
    os.kill(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait(timeout=30)
    batch = ("ads", [_ad(3, [_png((1, 2, 3))])])
    with pytest.raises(WorkerGone):
        worker.submit(batch)
        worker.finish(lambda outcome: None, timeout=30)
    redo = worker.unconfirmed()
    worker.close()
    assert [m[1][0].url for m in redo] == ["http://wk.test/ad/3"]
    core = IngestCore(str(tmp_path / "s.sqlite3"), str(tmp_path / "archive"),
                      tmp_path / "spool.jsonl", _info())
    core.open()
    try:
        assert core.ads(redo[0][1]).counts == {"ads_seen": 1, "new_ads": 1}
    finally:
        core.close()


def _info():  # noqa: ANN202 - the model's SourceInfo
    from indexer.model import SourceInfo

    return SourceInfo(**INFO)


PARENT = """
import sys, time
from crawler.ingest_worker import WorkerClient
w = WorkerClient({config!r})
w.wait_ready()
print(w.proc.pid, flush=True)
time.sleep(120)
"""


def test_worker_dies_with_the_crawl_process(tmp_path: Path) -> None:
    """A killed crawl must leave no writer behind (the next crawl reads what is stored)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    parent = subprocess.Popen([sys.executable, "-c", PARENT.format(config=_config(tmp_path))],
                              stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    assert parent.stdout is not None
    worker_pid = int(parent.stdout.readline())
    assert _alive(worker_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 30
    while _alive(worker_pid):
        assert time.monotonic() < deadline, "the worker outlived the crawl process"
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_complete_image_without_bytes_reads_the_archive(tmp_path: Path) -> None:
    body = _png((90, 90, 90))
    ref = ImageRef(sha256=sha256_hex(body), source_url="http://wk.test/i.png",
                   content_type="image/png; charset=binary")
    missing = complete_image(str(tmp_path), ref, None)
    assert missing == ref  # not archived: left as it came, nothing invented
    stored = complete_image(str(tmp_path), ref, body)
    assert stored.content_type == "image/png" and len(stored.phash) == 16
    assert complete_image(str(tmp_path), ref, None) == stored


def _stored(store_path: Path) -> dict:
    store = open_store(str(store_path))
    try:
        return {ad.id: [(v.fingerprint, v.fields.images, v.enrichment.phones)
                        for v in ad.versions] for ad in store.iter_ads()}
    finally:
        store.close()


def test_a_crawl_stores_the_same_with_or_without_the_worker(site, source, tmp_path: Path
                                                             ) -> None:  # noqa: ANN001
    from crawler.run import crawl

    results = {}
    for worker in (True, False):
        root = tmp_path / str(worker)
        stats = crawl([source], str(root / "s.sqlite3"), root / "archive", clock=AT,
                      progress=False, timeout=120,
                      settings={"ADTRACE_INGEST_WORKER": worker, "ADTRACE_INGEST_BATCH": 2})
        results[worker] = (_stored(root / "s.sqlite3"), stats.sources[source.id].ads_seen)
    stored, seen = results[True]
    assert seen >= 3 and len(stored) == seen
    assert any(images for versions in stored.values() for _, images, _ in versions)
    assert all(len(i.phash) == 16 for versions in stored.values()
               for _, images, _ in versions for i in images if i.content_type == "image/png")
    assert results[True] == results[False]


def test_every_answer_counts_once_when_the_worker_falls_behind(tmp_path: Path) -> None:
    """More batches than the hand-over queue holds: submit waits and reads answers
    meanwhile; each batch is confirmed exactly once."""
    from crawler.ingest_worker import QUEUE_BATCHES

    worker = WorkerClient(_config(tmp_path))
    worker.wait_slice_s = 0.001  # many waits per submit, answers arriving in between
    worker.wait_ready()
    outcomes: list = []
    n, size = QUEUE_BATCHES + 4, 100
    for i in range(n):
        worker.submit(("ads", [_ad(10_000 + size * i + k, []) for k in range(size)]))
        outcomes += worker.poll()
    worker.finish(outcomes.append)
    assert sum(o.counts.get("ads_seen", 0) for o in outcomes) == size * n
    assert worker.unanswered == 0


def test_answers_read_while_waiting_are_kept_once(tmp_path: Path) -> None:
    """What submit does while the queue is full (read the answers that came, keep them
    for poll), done over and over as answers arrive: each answer is returned once."""
    worker = WorkerClient(_config(tmp_path))
    worker.wait_ready()
    for i in range(3):
        worker.submit(("ads", [_ad(20_000 + 10 * i + k, []) for k in range(10)]))
    deadline = time.monotonic() + 60
    while worker.unanswered and time.monotonic() < deadline:
        worker._drain()
        worker._drain()
        worker._in.poll(0.05)  # wait for the next answer to be readable
    outcomes = worker.poll()
    assert [o.counts.get("ads_seen", 0) for o in outcomes] == [10, 10, 10]
    assert worker.poll() == []
    worker.finish(outcomes.append)
    assert len(outcomes) == 3


def test_answers_read_before_the_worker_died_are_still_handed_over(tmp_path: Path) -> None:
    """Answers read while waiting and not yet polled survive the worker's death: the
    pipeline counts them (their ads are stored) before it redoes the unconfirmed rest."""
    worker = WorkerClient(_config(tmp_path))
    worker.wait_ready()
    worker.submit(("ads", [_ad(30_000 + k, []) for k in range(5)]))
    deadline = time.monotonic() + 60
    while worker.unanswered and time.monotonic() < deadline:
        worker._drain()
        worker._in.poll(0.05)
    os.kill(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait(timeout=30)
    with pytest.raises(WorkerGone):
        worker.poll()  # as the pipeline's next hand-over does: the pipe ends
    outcomes = worker.take_received()
    worker.close()
    assert [o.counts.get("new_ads", 0) for o in outcomes] == [5]
    assert worker.unconfirmed() == []


def test_the_core_records_the_run_as_begun_where_it_opens_the_store(tmp_path: Path) -> None:
    """Recorded as soon as the store is open: a crawl killed from then on is on record as
    unfinished (its end, recorded by the pipeline, replaces it: same id)."""
    from indexer.crawl_runs import run_begun
    from indexer.model import to_iso

    for started in ("", to_iso(AT)):
        core = IngestCore.from_config({**_config(tmp_path), "run_started": started})
        core.open()
        core.close()
        store = open_store(str(tmp_path / "s.sqlite3"), create=False)
        try:
            runs = store.crawl_runs("wk")
        finally:
            store.close()
        assert runs == ([run_begun("wk", AT)] if started else [])
        assert all(not r.ended for r in runs)
