"""Crawl benchmark: end-to-end ad pages per second beside a bare Scrapy spider.

    .venv/bin/python benchmarks/crawl_bench.py [--ads 10000] [--concurrency 16]
                                               [--image-baseline]

Serves a demo world (both demo sites) on 127.0.0.1 from this process, then crawls its
first day twice, each in its own child process and with the same concurrency:
- bare: a plain Scrapy spider that fetches the same listings and ad pages and reads
  the same fields with the same selectors (crawler.extract), and nothing else;
- end to end: ``crawler.run.crawl`` — fetch, WARC archive, images (fetched, hashed,
  stored), parse, enrich (spaCy), store (SQLite, batched); each crawl child hands images,
  enrichment and the store to its ingest worker process (crawler.ingest_worker), whose
  CPU is counted with its child's (RUSAGE_CHILDREN covers the waited-for grandchildren).
Figures are printed beside each other, with the ratio end-to-end / bare (the target:
at least 0.5, and at least 150 ad pages/s on 2 cores) and the peak memory (max RSS of
the largest process: a crawl child or its worker, not their sum) of each run. Both
crawls share the machine with the demo server, which is part of the cost of both; its
CPU per ad page is printed too.

The bare spider fetches no images, while the end-to-end crawl fetches every ad's photos
(about 1.7 per ad page on the demo world). ``--image-baseline`` runs the bare spider a
second time, fetching each photo once as well (and doing nothing with it), and prints
the end-to-end rate against that too: it tells the cost of the photo fetches themselves
from the cost of what the crawl does with them. The targets stay against the bare spider.
That spider requests the photos as any plain spider would, through the scheduler; the
real crawl fetches them with ``engine.download_async``, which skips the scheduler.

The demo site draws its photos with Pillow on request and keeps only the last 512, so
on a 10,000-ad world the server would spend more CPU drawing photos than the crawler
spends archiving them: a real site serves images as static files. The photos the crawl
will ask for are therefore drawn before the timed runs (``--live-photos`` draws them
on request instead, as the demo does).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SITE_OF = {"demo-velvet": "velvet", "demo-board": "board"}
TARGET_RATIO = 0.5
TARGET_RATE = 150.0


# --------------------------------------------------------------------------- bare child
def bare_child() -> int:
    """Run the bare spider over the job's sources; print {"ad_pages": n, "maxrss_kb": m}."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from crawler.extract import ad_id_of, fields_of, image_urls, links, strip_scripts
    from crawler.register import source_from_dict

    job = json.load(sys.stdin)
    counts = {"ad_pages": 0, "images": 0}
    fetch_images = bool(job.get("images"))
    if fetch_images:
        from crawler.spiders.generic import MAX_IMAGES_PER_AD

    class BareSpider(scrapy.Spider):
        name = "bare"

        def __init__(self, source: Any, **kw: Any) -> None:
            super().__init__(**kw)
            self.source = source

        async def start(self) -> Any:
            from urllib.parse import urljoin

            for section in self.source.sections:
                yield scrapy.Request(urljoin(self.source.base_url, section.url), self.listing)

        def listing(self, response: Any) -> Any:
            sel = response.selector
            for url in links(sel, self.source.selectors.ad_links, response.url):
                yield scrapy.Request(url, self.ad)
            for url in links(sel, self.source.selectors.next_page, response.url):
                yield scrapy.Request(url, self.listing)

        def ad(self, response: Any) -> Any:
            sel = strip_scripts(response.selector)
            ad_id_of(self.source, response.url, sel)
            fields_of(sel, self.source)
            counts["ad_pages"] += 1
            if fetch_images:
                urls = image_urls(sel, self.source.selectors.images, response.url)
                for url in urls[:MAX_IMAGES_PER_AD]:  # each once: Scrapy's duplicate filter
                    yield scrapy.Request(url, self.image)

        def image(self, response: Any) -> None:
            counts["images"] += 1

    process = CrawlerProcess({
        "LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": True, "COOKIES_ENABLED": False,
        "CONCURRENT_REQUESTS": job["concurrency"],
        "CONCURRENT_REQUESTS_PER_DOMAIN": job["concurrency"], "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
        "CONCURRENT_ITEMS": 16,  # as the real crawl (crawler.settings): a fair baseline
    })
    for raw in job["sources"]:
        process.crawl(BareSpider, source=source_from_dict(raw))
    process.start()
    counts["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(counts))
    return 0


# --------------------------------------------------------------------------- runs
def _cpu_children() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def prerender_photos(world: Any, day: int = 0) -> int:
    """Draw every photo the day's live ads show, once, and serve them from memory (what a
    static file server does); returns how many there are."""
    import functools

    from demosite import images

    draw = images.photo_bytes.__wrapped__  # type: ignore[attr-defined]
    cached = functools.lru_cache(maxsize=None)(draw)
    fmt_of = {"velvet": "PNG", "board": "JPEG"}
    for site, fmt in fmt_of.items():
        for i in world.live_ads(site, day):
            version = world.version_on(i, day)
            for photo in version.photos if version else ():
                parsed = images.parse_photo_id(photo)
                if parsed:
                    cached(world.seed, parsed[0], parsed[1], fmt)
    images.photo_bytes = cached  # type: ignore[assignment] - the server looks it up per call
    return cached.cache_info().currsize


def run_bare(sources: list[Any], concurrency: int, images: bool = False
             ) -> tuple[int, float, int, float, int]:
    from crawler.register import source_to_dict

    job = {"sources": [source_to_dict(s) for s in sources], "concurrency": concurrency,
           "images": images}
    t0, cpu0 = time.perf_counter(), _cpu_children()
    proc = subprocess.run([sys.executable, __file__, "--bare-child"], input=json.dumps(job),
                          text=True, capture_output=True, check=False, cwd=ROOT)
    elapsed, cpu = time.perf_counter() - t0, _cpu_children() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"bare crawl failed: {proc.stderr[-2000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return int(data["ad_pages"]), elapsed, int(data["maxrss_kb"]), cpu, int(data["images"])


def run_full(sources: list[Any], concurrency: int, work: Path
             ) -> tuple[int, float, int, float, str]:
    from crawler.run import crawl

    settings = {"CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
                "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0, cpu0 = time.perf_counter(), _cpu_children()
    stats = crawl(sources, str(work / "bench.sqlite3"), work / "archive", progress=False,
                  clock=datetime(2026, 11, 1, 9, 0, tzinfo=UTC), settings=settings)
    elapsed, cpu = time.perf_counter() - t0, _cpu_children() - cpu0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return stats.total("ads_seen"), elapsed, max(peak, before), cpu, stats.summary()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ads", type=int, default=10_000, help="ads in the demo world")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--live-photos", action="store_true",
                        help="let the demo server draw photos on request (default: drawn "
                        "before the timed runs, as a static file server would have them)")
    parser.add_argument("--image-baseline", action="store_true",
                        help="also run the bare spider fetching each ad's images (and doing "
                        "nothing with them), and print the end-to-end rate against it too: "
                        "for context, the targets stay against the bare spider")
    parser.add_argument("--bare-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_child:
        return bare_child()

    from crawler.register import load_sources
    from demosite.server import DemoServer
    from demosite.world import World

    world = World(seed=1, n_ads=args.ads, days=1)
    if not args.live_photos:
        print(f"photos drawn before the timed runs: {prerender_photos(world)}")
    server = DemoServer(world, per_page=50).start()
    try:
        sources = [dataclasses.replace(s, base_url=f"{server.url}/{SITE_OF[s.id]}/")
                   for s in load_sources(ROOT / "sources") if s.id in SITE_OF]
        live = sum(len(world.live_ads(SITE_OF[s.id], 0)) for s in sources)
        print(f"demo world: {args.ads} ads, {live} live on day 0; concurrency "
              f"{args.concurrency}; {len(sources)} sources")
        load = os.getloadavg()[0]
        server_cpu0 = time.process_time()  # this process is the demo server (its threads)
        bare_n, bare_s, bare_kb, bare_cpu, _ = run_bare(sources, args.concurrency)
        server_cpu1 = time.process_time()
        with_images = (run_bare(sources, args.concurrency, images=True)
                       if args.image_baseline else None)
        server_cpu1b = time.process_time()
        with tempfile.TemporaryDirectory(prefix="adtrace-crawl-bench-") as tmp:
            full_n, full_s, full_kb, full_cpu, summary = run_full(sources, args.concurrency,
                                                                  Path(tmp))
        server_cpu2 = time.process_time()
    finally:
        server.stop()
    bare_rate, full_rate = bare_n / bare_s, full_n / full_s
    ratio = full_rate / bare_rate if bare_rate else 0.0
    print(f"load average before: {load:.1f} on {os.cpu_count()} cores (other work skews wall "
          "time; CPU ms per ad page does not depend on it)")
    print(f"bare scrapy (fetch + parse):  {bare_n:6d} ad pages in {bare_s:6.1f} s = "
          f"{bare_rate:7.1f} ad pages/s, {1000 * bare_cpu / max(1, bare_n):5.1f} CPU ms/ad page, "
          f"peak {bare_kb / 1024:5.0f} MB; demo server "
          f"{1000 * (server_cpu1 - server_cpu0) / max(1, bare_n):4.1f} CPU ms/ad page")
    print(f"end to end (fetch, archive, images, parse, enrich, store): {full_n:6d} ad pages in "
          f"{full_s:6.1f} s = {full_rate:7.1f} ad pages/s, "
          f"{1000 * full_cpu / max(1, full_n):5.1f} CPU ms/ad page, peak {full_kb / 1024:5.0f} MB; "
          f"demo server {1000 * (server_cpu2 - server_cpu1b) / max(1, full_n):4.1f} CPU ms/ad page")
    print(f"  ({summary})")
    print(f"ratio end-to-end / bare: {ratio:.2f} (target >= {TARGET_RATIO}); "
          f"end-to-end {full_rate:.0f} ad pages/s (target >= {TARGET_RATE:.0f})")
    if with_images is not None:
        img_n, img_s, img_kb, img_cpu, img_count = with_images
        print(f"for context, bare scrapy fetching the ads' images too ({img_count} images, "
              f"each once): {img_n:6d} ad pages in {img_s:6.1f} s = {img_n / img_s:7.1f} ad "
              f"pages/s, {1000 * img_cpu / max(1, img_n):5.1f} CPU ms/ad page, peak "
              f"{img_kb / 1024:5.0f} MB; demo server "
              f"{1000 * (server_cpu1b - server_cpu1) / max(1, img_n):4.1f} CPU ms/ad page; "
              f"end-to-end / this: {full_rate / (img_n / img_s):.2f}")
    ok = ratio >= TARGET_RATIO and full_rate >= TARGET_RATE and full_n == bare_n == live
    print("TARGETS MET" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
