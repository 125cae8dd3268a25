"""Crawl benchmark: end-to-end ad pages per second beside a bare Scrapy spider.

    .venv/bin/python benchmarks/crawl_bench.py [--ads 10000] [--concurrency 16]
                                               [--rounds 3] [--image-baseline]
                                               [--handler-baseline] [--photo-free-run]
                                               [--live-site]

Serves a demo world (both demo sites) on 127.0.0.1 from a process of its own
(benchmarks.bench_site), then crawls its first day twice per round, each from its own child
process and with the same concurrency:
- bare: a plain Scrapy spider that fetches the same listings and ad pages and reads
  the same fields with the same selectors (crawler.extract), and nothing else;
- end to end: ``crawler.run.crawl`` — fetch, WARC archive, images (fetched, hashed,
  stored), parse, enrich (spaCy), store (SQLite, batched); each crawl process hands
  images, enrichment and the store to its ingest worker process
  (crawler.ingest_worker); the CPU of all of them is counted (RUSAGE_CHILDREN covers
  the waited-for descendants).
Figures are printed beside each other, with the ratio end-to-end / bare (the target:
at least 0.5, and at least 150 ad pages/s on 2 cores) and the peak memory (max RSS of
the largest process: a crawl process or its worker, not their sum) of each run. Both
crawls share the machine with the site they crawl, which is part of the cost of both;
its CPU per ad page is printed too.

The two crawls are run in rounds (``--rounds``, 3 by default), a bare crawl and then an
end-to-end crawl in each, and the medians are the figures: the ratio is the median of
the rounds' ratios (each from two runs a minute or two apart), the rates those of the
median run. A machine shared with others runs at a speed that drifts from minute to
minute, CPU time included: three runs of this benchmark in a row on one of these
machines gave ratios of 0.40, 0.42 and 0.53 from one round each. With an even count,
the lower of the two middle figures is taken.

The bare spider fetches no images, while the end-to-end crawl fetches every ad's photos
(about 1.7 per ad page on the demo world). ``--image-baseline`` runs the bare spider a
second time, fetching each photo once as well (and doing nothing with it), and prints
the end-to-end rate against that too: it tells the cost of the photo fetches themselves
from the cost of what the crawl does with them. The targets stay against the bare spider.
That spider requests the photos as any plain spider would, through the scheduler; the
real crawl fetches them with ``engine.download_async``, which skips the scheduler.
``--photo-free-run`` runs the end-to-end crawl a second time with the sources' image
selectors emptied (it fetches, archives and hashes no photo), and prints its rate
against the bare spider: it tells what the photos cost the crawl from what the rest of
it costs. The targets stay on the crawl with photos.

The bare spider downloads with Scrapy's default handler (Twisted's HTTP client), as a
plain spider does; the crawl downloads with aiohttp (crawler.http_handler), which parses
responses in C. ``--handler-baseline`` runs the bare spider once more with the crawl's
handler, and prints the end-to-end rate against that too: it tells what the handler
gains from what the rest of the crawl costs. The targets stay against the bare spider.

The bare spider is one Scrapy process crawling both sources, as a plain spider is run;
it keeps one core busy. The end-to-end crawl is run as adtrace runs it: a crawl process
per source (up to the number of cores), each with its ingest worker, on both cores. So
the ratio compares pages per second of the crawl as deployed with a plain spider as
written; the CPU ms per ad page compare the work itself.

The site is a static snapshot of the demo world: every answer of the day, photos
included, rendered before the timed runs and served from memory (a real site serves
them from machines of its own; this one still shares the 2 cores, and its CPU per ad
page is printed). The demo's own server renders every page with Python on request: that
cost the end-to-end crawl (which uses both cores) more than the bare spider (which uses
one, while the server ran on the other). ``--live-site`` serves the world with the demo's server all the same; its
photos are then drawn before the timed runs unless ``--live-photos`` is given too.
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

    from crawler.settings import BASE

    # the crawl's download handler (aiohttp) when asked, else Scrapy's own (Twisted)
    handlers = {"DOWNLOAD_HANDLERS": BASE["DOWNLOAD_HANDLERS"]} if job.get("handler") else {}
    process = CrawlerProcess({
        **handlers,
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


def _run_child(flag: str, what: str, sources: list[Any], concurrency: int,
               **job: Any) -> tuple[dict[str, Any], float, float]:
    """Run this file with ``flag`` on the job (JSON on its stdin); return the figures it
    printed (its last line, JSON), the wall seconds and the CPU seconds of it and of
    every process it waited for."""
    from crawler.register import source_to_dict

    job.update(sources=[source_to_dict(s) for s in sources], concurrency=concurrency)
    t0, cpu0 = time.perf_counter(), _cpu_children()
    proc = subprocess.run([sys.executable, __file__, flag], input=json.dumps(job),
                          text=True, capture_output=True, check=False, cwd=ROOT)
    elapsed, cpu = time.perf_counter() - t0, _cpu_children() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), elapsed, cpu


@dataclasses.dataclass(frozen=True)
class Run:
    """One timed crawl: what it fetched, its wall and CPU seconds (its processes'), its
    largest process's peak memory, and the CPU the site spent serving it."""

    ad_pages: int
    seconds: float
    cpu_s: float
    maxrss_kb: int
    site_cpu_s: float
    images: int = 0
    summary: str = ""

    @property
    def rate(self) -> float:
        return self.ad_pages / self.seconds if self.seconds else 0.0

    def per_ad_ms(self, seconds: float) -> float:
        return 1000 * seconds / max(1, self.ad_pages)

    def line(self) -> str:
        return (f"{self.ad_pages:6d} ad pages in {self.seconds:6.1f} s = {self.rate:7.1f} ad "
                f"pages/s, {self.per_ad_ms(self.cpu_s):5.1f} CPU ms/ad page, peak "
                f"{self.maxrss_kb / 1024:5.0f} MB; site {self.per_ad_ms(self.site_cpu_s):4.1f} "
                "CPU ms/ad page")


def run_bare(site: Any, sources: list[Any], concurrency: int, images: bool = False,
             handler: bool = False) -> Run:
    site_cpu = site.cpu_seconds()
    data, elapsed, cpu = _run_child("--bare-child", "bare crawl", sources, concurrency,
                                    images=images, handler=handler)
    return Run(int(data["ad_pages"]), elapsed, cpu, int(data["maxrss_kb"]),
               site.cpu_seconds() - site_cpu, images=int(data["images"]))


def full_child() -> int:
    """Run the end-to-end crawl of the job; print its figures, with the peak RSS of the
    crawl processes and ingest workers it started (its waited-for descendants)."""
    from crawler.register import source_from_dict
    from crawler.run import crawl

    job = json.load(sys.stdin)
    concurrency, work = job["concurrency"], Path(job["work"])
    settings = {"CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
                "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
    stats = crawl([source_from_dict(raw) for raw in job["sources"]],
                  str(work / "bench.sqlite3"), work / "archive", progress=False,
                  clock=datetime(2026, 11, 1, 9, 0, tzinfo=UTC), settings=settings)
    print(json.dumps({"ads_seen": stats.total("ads_seen"), "summary": stats.summary(),
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
    return 0


def run_full(site: Any, sources: list[Any], concurrency: int, work: Path) -> Run:
    """The end-to-end crawl, from a child process of its own, as the bare spider runs:
    the peak memory it reports is its crawl processes' and ingest workers' own."""
    site_cpu = site.cpu_seconds()
    data, elapsed, cpu = _run_child("--full-child", "end-to-end crawl", sources, concurrency,
                                    work=str(work))
    return Run(int(data["ads_seen"]), elapsed, cpu, int(data["maxrss_kb"]),
               site.cpu_seconds() - site_cpu, summary=str(data["summary"]))


@dataclasses.dataclass(frozen=True)
class Round:
    """A bare crawl and an end-to-end crawl run one after the other (and, when asked, the
    bare crawl that fetches the photos too and the one with the crawl's download handler):
    a ratio from runs minutes apart."""

    bare: Run
    full: Run
    with_images: Run | None
    with_handler: Run | None = None
    photo_free: Run | None = None

    @property
    def ratio(self) -> float:
        return self.full.rate / self.bare.rate if self.bare.rate else 0.0

    def line(self, n: int) -> str:
        """The round in one line, printed as it ends (the progress of a long benchmark)."""
        photos = (f", bare with photos {self.with_images.rate:6.1f}" if self.with_images else "")
        if self.with_handler:
            photos += f", bare with aiohttp {self.with_handler.rate:6.1f}"
        if self.photo_free:
            photos += f", end to end without photos {self.photo_free.rate:6.1f}"
        return (f"round {n}: bare {self.bare.rate:6.1f} ad pages/s "
                f"({self.bare.per_ad_ms(self.bare.cpu_s):4.1f} CPU ms/ad), end to end "
                f"{self.full.rate:6.1f} ({self.full.per_ad_ms(self.full.cpu_s):4.1f} CPU ms/ad)"
                f"{photos}: ratio {self.ratio:.2f}")


def run_round(site: Any, sources: list[Any], concurrency: int, image_baseline: bool,
              handler_baseline: bool = False, photo_free: bool = False) -> Round:
    bare = run_bare(site, sources, concurrency)
    with_images = run_bare(site, sources, concurrency, images=True) if image_baseline else None
    with_handler = (run_bare(site, sources, concurrency, handler=True) if handler_baseline
                    else None)
    with tempfile.TemporaryDirectory(prefix="adtrace-crawl-bench-") as tmp:
        full = run_full(site, sources, concurrency, Path(tmp))
    without = None
    if photo_free:
        with tempfile.TemporaryDirectory(prefix="adtrace-crawl-bench-") as tmp:
            without = run_full(site, without_photos(sources), concurrency, Path(tmp))
    return Round(bare, full, with_images, with_handler, without)


def without_photos(sources: list[Any]) -> list[Any]:
    """The sources with their image selectors emptied: the crawl finds no photo to fetch."""
    return [dataclasses.replace(s, selectors=dataclasses.replace(s.selectors, images=""))
            for s in sources]


def context_line(label: str, what: str, pairs: list[tuple[Run, Run]]) -> str:
    """A baseline printed for context: its median run, and the median over the rounds of
    end-to-end / it (each from two runs of one round, as the target ratio is)."""
    ratio = lower_median([full.rate / run.rate if run.rate else 0.0 for full, run in pairs])
    return (f"for context, {label}, {what}: {median_run([run for _, run in pairs]).line()}; "
            f"end-to-end / this: {ratio:.2f}")


def lower_median(values: list[float]) -> float:
    """The median of ``values``; of an even count, the lower of the two middle ones."""
    return sorted(values)[(len(values) - 1) // 2]


def median_run(runs: list[Run]) -> Run:
    """The run of median rate (the lower middle one of an even count): its figures are
    printed as one run's, not mixed from several."""
    return sorted(runs, key=lambda r: r.rate)[(len(runs) - 1) // 2]


def report(rounds: list[Round], live: int) -> bool:
    """Print the medians of the rounds; return whether the targets are met (the median
    of the rounds' ratios and the median end-to-end rate, every run having fetched every
    live ad)."""
    bare, full = median_run([r.bare for r in rounds]), median_run([r.full for r in rounds])
    ratio = lower_median([r.ratio for r in rounds])
    what = f"median of {len(rounds)} rounds" if len(rounds) > 1 else "one round"
    print(f"bare scrapy (fetch + parse), {what}: {bare.line()}")
    print(f"end to end (fetch, archive, images, parse, enrich, store), {what}: {full.line()}")
    print(f"  ({full.summary})")
    print(f"peak memory of all rounds: bare {max(r.bare.maxrss_kb for r in rounds) / 1024:.0f} MB, "
          f"end to end {max(r.full.maxrss_kb for r in rounds) / 1024:.0f} MB")
    print(f"ratio end-to-end / bare ({what}): {ratio:.2f} (target >= {TARGET_RATIO}); "
          f"end-to-end {full.rate:.0f} ad pages/s (target >= {TARGET_RATE:.0f})")
    pairs = [(r.full, r.with_images) for r in rounds if r.with_images is not None]
    if pairs:
        images = median_run([run for _, run in pairs]).images
        print(context_line(f"bare scrapy fetching the ads' images too ({images} images, each "
                           "once)", what, pairs))
    pairs = [(r.full, r.with_handler) for r in rounds if r.with_handler is not None]
    if pairs:
        print(context_line("bare scrapy with the crawl's download handler (aiohttp)", what,
                           pairs))
    free = [r for r in rounds if r.photo_free is not None]
    if free:
        run = median_run([r.photo_free for r in free if r.photo_free is not None])
        free_ratio = lower_median([r.photo_free.rate / r.bare.rate if r.bare.rate else 0.0
                                   for r in free if r.photo_free is not None])
        print(f"for context, end to end without photos (no photo fetched, archived or "
              f"hashed), {what}: {run.line()}; it / bare: {free_ratio:.2f}")
    fetched_all = all(r.full.ad_pages == r.bare.ad_pages == live for r in rounds)
    return ratio >= TARGET_RATIO and full.rate >= TARGET_RATE and fetched_all


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ads", type=int, default=10_000, help="ads in the demo world")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--live-photos", action="store_true",
                        help="with --live-site: let the demo server draw photos on request "
                        "(default: drawn before the timed runs, as a static file server "
                        "would have them)")
    parser.add_argument("--live-site", action="store_true",
                        help="serve the demo world with the demo's own server, rendering "
                        "each page on request (default: a static snapshot, rendered before "
                        "the timed runs and served from memory, as a real site's machines "
                        "spare the crawl machine's CPU)")
    parser.add_argument("--image-baseline", action="store_true",
                        help="also run the bare spider fetching each ad's images (and doing "
                        "nothing with them), and print the end-to-end rate against it too: "
                        "for context, the targets stay against the bare spider")
    parser.add_argument("--handler-baseline", action="store_true",
                        help="also run the bare spider with the crawl's download handler "
                        "(aiohttp) instead of Scrapy's default (Twisted), and print the "
                        "end-to-end rate against it too: for context, the targets stay "
                        "against the bare spider as Scrapy runs it")
    parser.add_argument("--photo-free-run", action="store_true",
                        help="also run the end-to-end crawl with the sources' image selectors "
                        "emptied (no photo fetched, archived or hashed), and print its rate "
                        "against the bare spider: for context, the targets stay on the "
                        "crawl with photos")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of a bare and an end-to-end crawl, one after the other; "
                        "the medians are the figures (default 3: a machine shared with "
                        "others runs at a speed that drifts from one minute to the next)")
    parser.add_argument("--bare-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--full-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.bare_child:
        return bare_child()
    if args.full_child:
        return full_child()

    from benchmarks.bench_site import SiteProcess
    from crawler.register import load_sources

    site = SiteProcess(args.ads, live=args.live_site, live_photos=args.live_photos)
    try:
        print(site.prepared)
        sources = [dataclasses.replace(s, base_url=f"{site.url}/{SITE_OF[s.id]}/")
                   for s in load_sources(ROOT / "sources") if s.id in SITE_OF]
        live = site.live_ads
        print(f"demo world: {args.ads} ads, {live} live on day 0; concurrency "
              f"{args.concurrency}; {len(sources)} sources")
        load = os.getloadavg()[0]
        print(f"load average before: {load:.1f} on {os.cpu_count()} cores (other work skews "
              "wall time, and on a machine shared with others CPU time too)", flush=True)
        rounds = []
        for n in range(1, args.rounds + 1):
            rounds.append(run_round(site, sources, args.concurrency, args.image_baseline,
                                    args.handler_baseline, args.photo_free_run))
            print(rounds[-1].line(n), flush=True)
    finally:
        late = site.stop()
    ok = report(rounds, live)
    if late is not None:
        print(f"answers the snapshot lacked (rendered during the runs): {late}")
    print("TARGETS MET" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
