"""Captures found again by (URL, time) in a real archive: what a cut write's record is
rebuilt from (indexer.archive.lookup, used by Store.finish_cut_writes)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from test_warc_archive import T0, fetched

from indexer.archive import WarcWriter
from indexer.archive.index import INDEX_FILE
from indexer.archive.lookup import CapturesSince


def test_a_capture_is_rebuilt_as_the_crawl_made_it(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        before = w.write(fetched("http://x.test/ad/1", b"<h1>one</h1>", at=T0))
        page = w.write(fetched("http://x.test/ad/2", b"<h1>two</h1>", at=T0 + timedelta(hours=2)))
        revisit = w.write(fetched("http://x.test/ad/1", b"<h1>one</h1>",
                                  at=T0 + timedelta(hours=3)))
    found = CapturesSince(tmp_path, T0 + timedelta(hours=1))
    assert len(found) == 2  # the capture before the killed run began is not read
    assert found.capture("http://x.test/ad/2", page.fetched_at) == page
    assert found.capture("http://x.test/ad/1", revisit.fetched_at) == revisit
    assert revisit.revisit_of == before.id  # the lookup kept what makes it a revisit
    assert found.capture_id("http://x.test/ad/1", revisit.fetched_at) == revisit.id
    assert found.capture_id("http://x.test/ad/2", page.fetched_at) == page.id
    for url, at in [("http://x.test/ad/1", before.fetched_at),
                    ("http://x.test/ad/2", page.fetched_at + timedelta(microseconds=1)),
                    ("http://x.test/ad/9", page.fetched_at)]:
        assert found.capture(url, at) is None and found.capture_id(url, at) is None


def test_a_record_that_cannot_be_read_gives_no_capture_and_a_broken_line_is_skipped(
        tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        page = w.write(fetched("http://x.test/ad/1", b"<h1>one</h1>"))
    with open(tmp_path / INDEX_FILE, "a", encoding="utf-8") as fh:
        fh.write('{"url": "http://x.test/ad/cut", "fetched_at": "2099')  # a kill mid-append
    (tmp_path / page.warc_file).write_bytes(b"not a warc record")
    found = CapturesSince(tmp_path, T0)
    assert len(found) == 1
    assert found.capture_id(page.url, page.fetched_at) == page.id  # from the index line
    assert found.capture(page.url, page.fetched_at) is None


def test_a_line_written_without_the_usual_spacing_is_still_read(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        page = w.write(fetched("http://x.test/ad/1", b"<h1>one</h1>", at=T0))
    index = tmp_path / INDEX_FILE
    index.write_text(json.dumps(json.loads(index.read_text()), separators=(",", ":")) + "\n")
    found = CapturesSince(tmp_path, T0 - timedelta(seconds=1))
    assert found.capture(page.url, page.fetched_at) == page
    assert len(CapturesSince(tmp_path, T0 + timedelta(seconds=1))) == 0


def test_the_index_is_read_when_first_asked_not_when_the_lookup_is_made(tmp_path: Path) -> None:
    found = CapturesSince(tmp_path, T0)  # what a store with nothing to rebuild costs
    with WarcWriter(tmp_path) as w:
        page = w.write(fetched("http://x.test/ad/1", b"<h1>one</h1>", at=T0))
    assert found.capture_id(page.url, page.fetched_at) == page.id
