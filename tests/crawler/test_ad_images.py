"""An ad's images are fetched at once, through the archive, and kept in page order."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from crawl_helpers import collect
from fixture_site import FixtureSite

from crawler.source import Source
from indexer.archive import find_image


def _release_when_requested(site: FixtureSite, path: str, deadline_s: float = 60) -> None:
    """Let the slow pages answer once ``path`` was asked for (or give up at the deadline)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end and not site.release.is_set():
        with site.lock:
            if path in site.requests:
                site.release.set()
                return
        time.sleep(0.01)


def test_images_of_an_ad_are_fetched_together_in_page_order(site: FixtureSite, source: Source,
                                                            tmp_path: Path) -> None:
    # the first image answers only after the second was requested: fetched one after the
    # other, the first would wait for a request that never comes and time out
    site.slow.add("/img/1.png")
    watcher = threading.Thread(target=_release_when_requested, args=(site, "/img/big.png"),
                               daemon=True)
    watcher.start()
    result = collect(source, tmp_path, timeout=20)
    watcher.join(timeout=60)
    ads = {i["site_ad_id"]: i for i in result["items"] if i["kind"] == "AdItem"}
    images = ads["1"]["fields"]["images"]
    assert [i["source_url"].rsplit("/", 1)[1] for i in images] == ["1.png", "big.png"]
    assert all(find_image(tmp_path, i["sha256"]) is not None for i in images)
    assert result["stats"]["errors"] == 1  # only the 500 of ad 4
    assert site.requests.count("/img/1.png") == 1  # the ad's repeated image: fetched once
    assert site.referers["/img/big.png"] == site.url + "ad/1"  # as a browser would send
