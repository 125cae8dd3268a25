"""The hostile world: demo ads that all carry payloads plus a hand-made hostile ad with
an SVG "image", crawled for real into a store (imported by conftest and the tests).

The hand-made ad's page also carries markup aimed at the archived-page rewrite: a style
sheet that a careless removal of ``@import`` would close early (letting out a meta
refresh and an image from elsewhere), an ``<image srcset>``, CSS escapes (once and
twice) and ``image-set()``. Its meta refresh waits longer than Scrapy's METAREFRESH_MAXDELAY, so the
crawl archives the page instead of following it."""

from __future__ import annotations

import dataclasses
import sys
from datetime import UTC, datetime, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crawler"))

from fixture_site import SOURCE_YAML, FixtureSite  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple 42"
EVIL = "evil.invalid"
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=7">'
       b'<script>window.__pwned=8;alert(8)</script><rect width="9" height="9"/></svg>')
HOSTILE_AD = f"""<!doctype html><html><body>
<h1 class="title">=HYPERLINK(&quot;http://{EVIL}/x&quot;,&quot;open&quot;) &lt;script&gt;
window.__pwned=1;document.title=&quot;PWNED-BY-AD&quot;;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;</h1>
<div class="description"><p>&lt;a href=&quot;javascript:alert(3)&quot;&gt;klik&lt;/a&gt;
&lt;style&gt;body{{background:url(http://{EVIL}/css.png)}}&lt;/style&gt;
&lt;iframe src=http://{EVIL}/f&gt;&lt;/iframe&gt; &amp;lt;b&amp;gt; &#x3C;svg onload=alert(4)&#x3E;
javascript:alert(5) http://{EVIL}/link</p><p>Bel 06-12 34 56 78</p></div>
<span class="city">&lt;svg onload=alert(6)&gt;Amsterdam</span>
<dl><dt>Age</dt><dd>&quot;&gt;&lt;img src=http://{EVIL}/age.png onerror=alert(7)&gt;</dd></dl>
<div class="gallery"><img src="/img/evil.svg"><img src="/img/1.png"></div>
<style>p{{}}</sty@import x;le><meta http-equiv="refresh" content="600;url=http://{EVIL}/refresh">
<img src="http://{EVIL}/breakout.png"></style>
<image srcset="http://{EVIL}/image-srcset.png 1x"><p>after the image</p>
<div style="background:\\75 rl(http://{EVIL}/escaped.png)">.</div>
<div style="background:\\\\75rl(http://{EVIL}/escaped-twice.png)">.</div>
<style>b{{background-image:image-set("http://{EVIL}/set.png" 1x)}} @\\69mport "http://{EVIL}/i.css";</style>
</body></html>""".encode()


@dataclasses.dataclass
class Hostile:
    url: str
    store: Path
    archive: Path
    data: Path


def crawl_hostile(tmp: Path) -> tuple[Path, Path]:
    """A real crawl of both hostile sites into one store and archive."""
    from adtrace.cli import main
    from crawler.register import load_sources
    from crawler.run import crawl
    from demosite.server import DemoServer
    from demosite.world import World

    store, archive = tmp / "store.sqlite3", tmp / "archive"
    site = FixtureSite().start()
    try:
        site.load_day_one()
        site.html("/ad/1", HOSTILE_AD)
        site.pages["/img/evil.svg"] = (200, "image/svg+xml", SVG)
        sources = tmp / "sources"
        sources.mkdir()
        (sources / "f.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
        assert main(["crawl", "--dir", str(sources), "--store", str(store), "--archive",
                     str(archive), "--quiet"]) == 0
    finally:
        site.stop()
    world = World(seed=5, n_ads=10, days=1, hostile_share=1.0)
    with DemoServer(world, per_page=10) as server:
        demo = [dataclasses.replace(s, base_url=f"{server.url}/velvet/")
                for s in load_sources(REPO / "sources") if s.id == "demo-velvet"]
        crawl(demo, str(store), archive, progress=False, timeout=300,
              clock=datetime.combine(world.date_of(0), time(9, 0), tzinfo=UTC),
              settings={"DOWNLOAD_TIMEOUT": 15})
    return store, archive


