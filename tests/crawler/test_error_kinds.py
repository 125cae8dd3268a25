"""A run counts its errors by kind: what a failed download raised says which, and a run
record keeps the counts in a fixed order (indexer.crawl_runs.ERROR_KINDS)."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from twisted.internet import error as net
from twisted.web.client import ResponseNeverReceived

from crawler.error_kinds import failure_kind
from crawler.middlewares import ArchiveWriteError
from crawler.run import CrawlStats, SourceStats
from crawler.socks import SocksStreamError
from indexer.crawl_runs import (
    ERROR_KINDS,
    CrawlRun,
    error_kinds_of,
    ordered_kinds,
    run_from_dict,
    run_to_dict,
)


@pytest.mark.parametrize(("exc", "kind"), [
    (DownloadTimeoutError("Getting http://x/ took longer than 3 seconds."), "timeout"),
    (net.TimeoutError(), "timeout"),
    (net.TCPTimedOutError(), "timeout"),  # a ConnectError too: the timeout wins
    (TimeoutError(), "timeout"),
    (DownloadConnectionRefusedError("refused"), "connection"),
    (net.ConnectionRefusedError(), "connection"),
    (CannotResolveHostError("no such host"), "connection"),
    (net.DNSLookupError(), "connection"),
    (ResponseNeverReceived([]), "connection"),
    (ConnectionResetError(), "connection"),
    (ssl.SSLError("bad handshake"), "connection"),
    (SocksStreamError("proxy closed"), "connection"),
    (IgnoreRequest("max redirections reached"), "redirect"),
    (IgnoreRequest("redirected off the approved site x: a redirected to b"), "redirect"),
    (IgnoreRequest("Forbidden by robots.txt"), "other"),
    # a message that only names a redirect is not one
    (IgnoreRequest("Filtered offsite request to 'redirector.example'"), "other"),
    (ArchiveWriteError("could not be archived: [Errno 28] No space left on device"),
     "archive"),
    (ValueError("something else"), "other"),
])
def test_a_failed_download_is_named_by_what_it_raised(exc: BaseException, kind: str) -> None:
    assert failure_kind(exc) == kind
    assert kind in ERROR_KINDS


def test_kinds_come_in_the_catalogue_order_and_an_unknown_one_last() -> None:
    stats = {"adtrace/errors": 6, "adtrace/errors/page": 2, "adtrace/errors/timeout": 3,
             "adtrace/errors/from-a-newer-crawler": 1, "adtrace/errors/http": 0,
             "adtrace/pages": 10}
    assert error_kinds_of(stats) == (("timeout", 3), ("page", 2), ("from-a-newer-crawler", 1))
    assert ordered_kinds({}) == ()


def test_a_run_record_keeps_its_kinds_and_an_older_one_has_none() -> None:
    t = datetime(2026, 11, 2, 9, tzinfo=UTC)
    run = CrawlRun("s", t, t, errors=4, error_kinds=(("timeout", 3), ("image", 1)))
    again = run_from_dict(run_to_dict(run))
    assert again == run and again.errors_by_kind() == "timeout 3, image 1"
    older = run_to_dict(run)
    del older["error_kinds"]  # a run recorded before runs counted kinds
    assert run_from_dict(older).error_kinds == () and run_from_dict(older).errors_by_kind() == ""
    # a record edited by hand or damaged: what a crawler would not write is left out, so
    # status prints no escape sequence and does not fail
    damaged = dict(older, error_kinds={"x\x1b[2J\n    error: fake": 1, "http": "2",
                                       "page": -1, "timeout": 3, "other": 1.5})
    assert run_from_dict(damaged).error_kinds == (("timeout", 3),)
    assert run_from_dict(dict(older, error_kinds=["timeout"])).error_kinds == ()


def test_the_crawl_summary_shows_the_kinds_beside_the_error_count() -> None:
    stats = CrawlStats(sources={"s": SourceStats("s", pages=9, errors=3,
                                                 error_kinds={"page": 1, "timeout": 2})})
    (line,) = stats.lines()
    assert " errors=3 (timeout 2, page 1) " in line
    assert " errors=0 " in CrawlStats(sources={"s": SourceStats("s")}).lines()[0]


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count


def test_a_callback_that_raises_is_a_page_error_and_a_failed_store_an_ingest_one() -> None:
    """CrawlMonitor counts what Scrapy reports by signal: an exception in a callback (a
    custom spider's parse failure) and an item the pipeline could not store."""
    from types import SimpleNamespace

    from twisted.python.failure import Failure

    from crawler.extensions import CrawlMonitor

    seen: list[tuple[str, str, str]] = []
    spider = SimpleNamespace(record_error=lambda url, why, kind: seen.append((url, why, kind)))
    monitor = CrawlMonitor(SimpleNamespace(spider=spider, stats=_Stats()), progress=False)
    monitor.spider_error(Failure(KeyError("price")), SimpleNamespace(url="http://x/ad/1"))
    monitor.item_error(SimpleNamespace(url="http://x/ad/2"), failure=Failure(OSError("disk")))
    assert seen == [("http://x/ad/1", "parse error: 'price'", "page"),
                    ("http://x/ad/2", "could not store: disk", "ingest")]
    # a spider that keeps no samples (not a GenericSpider): counted all the same
    stats = _Stats()
    bare = CrawlMonitor(SimpleNamespace(spider=object(), stats=stats), progress=False)
    bare.spider_error(Failure(KeyError("price")), SimpleNamespace(url="http://x/ad/1"))
    assert stats.values == {"adtrace/errors": 1, "adtrace/errors/page": 1}
    assert error_kinds_of(stats.values) == (("page", 1),)


def test_an_answer_the_archive_cannot_write_is_an_archive_error(tmp_path) -> None:  # noqa: ANN001
    """A full disk under the WARC writer: the answer is refused as ArchiveWriteError (not
    used: nothing is that is not archived), which the run counts as ``archive``."""
    from scrapy.http import HtmlResponse, Request

    from crawler.clock import Clock
    from crawler.middlewares import ArchiveMiddleware

    mw = ArchiveMiddleware(str(tmp_path / "archive"), Clock(), max_file_bytes=1 << 20)

    def full_disk(fetched: object) -> None:
        raise OSError(28, "No space left on device")

    mw.writer.write = full_disk  # type: ignore[method-assign]
    request = Request("http://x/ad/1")
    try:
        with pytest.raises(ArchiveWriteError, match="No space left on device") as caught:
            mw.process_response(request, HtmlResponse("http://x/ad/1", body=b"<p>ad</p>",
                                                      request=request))
    finally:
        mw.writer.close()
    assert isinstance(caught.value.__cause__, OSError) and "adtrace_capture" not in request.meta
    assert failure_kind(caught.value) == "archive"


def test_every_kind_is_explained_in_the_dutch_interface_too() -> None:
    """The Crawls page explains each kind when pointed at, in the user's language."""
    from pathlib import Path

    import yaml

    nl = yaml.safe_load((Path(__file__).resolve().parents[2] / "webui" / "translations"
                         / "nl.yaml").read_text("utf-8"))
    assert [kind for kind, text in ERROR_KINDS.items() if not nl.get(text)] == []
