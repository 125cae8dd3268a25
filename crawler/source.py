"""The source register: one YAML file per source, loaded into a ``Source``.

A source file names what is crawled, why, and who approved it (the rules require a
public, justified list), and how to read the site (selectors). Example:

```yaml
id: demo-velvet                   # [a-z0-9-]+, unique; used in ad identity
name: Velvet Nights (demo)
theme: trafficking                # data compartment; users are granted themes
country: NL                       # default country for phone numbers; Norway is "NO"
                                  # (text YAML reads as a number or yes/no: in quotes)
base_url: http://127.0.0.1:8700/velvet/
reason: Demo site bundled with adtrace for training and tests.
approved_by: adtrace maintainers
approved_on: 2026-11-22           # the day of approval: not after today, not before 2000
enabled: true
sections:                         # start URLs (joined to base_url; on its host or subdomains),
                                  # each with a name and a start page of its own
  - {name: Amsterdam, url: city/amsterdam/}
revisit_hours: 24                 # a known live ad is refetched once this has passed
crawl_every_hours: 6              # `adtrace schedule` runs the source this often (default: revisit_hours)
missing_runs_before_removed: 2    # absent from this many complete listings in a row → removed
politeness: {download_delay: 0.0, concurrency: 8, autothrottle: true}
robots: obey                      # obey | ignore (then robots_reason is required)
user_agent: adtrace/0.1 (+research)
proxy: ""                         # http://host:port or socks5h://[user:password@]host:port
                                  # (Tor: socks5h://127.0.0.1:9050; socks5:// resolves names here)
spider: generic                   # or a custom spider's name (crawler/spiders/) or module:Class;
                                  # a custom spider may read listings without ad_links
selectors:
  ad_links: "a.ad-link::attr(href)"          # CSS (or xpath: prefix) on listing pages
  next_page: "a.next::attr(href)"            # pagination: a next link, or all page numbers
  ad_id: {from_url: "/ad/(\\d+)"}            # or {css: "…"}
  fields:                                    # CSS or XPath on ad pages
    title: "h1.title::text"
    text: "div.description ::text"           # all text nodes joined
    city: "span.city::text"
  images: "div.gallery img"                 # elements: per image its lazy-loaded address
                                            # (data-src, data-srcset…), else srcset, else src
  removed_marker: "div.ad-removed"           # page says the ad is gone
  empty_listing: "p.no-results"              # a listing says it has no ads (else a listing
                                             # page with no ad links makes the run's
                                             # listings incomplete: blocked, or a new layout)
```
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    name: str
    url: str


@dataclass(frozen=True)
class Politeness:
    download_delay: float = 1.0
    concurrency: int = 2
    autothrottle: bool = True


@dataclass(frozen=True)
class Selectors:
    ad_links: str
    next_page: str = ""
    ad_id_from_url: str = ""  # regex with one group
    ad_id_css: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # name → CSS or "xpath:…"
    images: str = ""
    removed_marker: str = ""
    empty_listing: str = ""  # a listing page's "no ads here" notice


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    theme: str
    country: str
    base_url: str
    reason: str
    approved_by: str
    approved_on: str
    sections: tuple[Section, ...]
    selectors: Selectors
    enabled: bool = True
    revisit_hours: float = 24.0
    crawl_every_hours: float = 0.0  # 0: same as revisit_hours
    missing_runs_before_removed: int = 2
    politeness: Politeness = Politeness()
    robots: str = "obey"
    robots_reason: str = ""
    user_agent: str = "adtrace/0.1"
    proxy: str = ""
    spider: str = "generic"  # or a custom spider: its name, or package.module:Class
    path: str = ""  # the file it was loaded from (for error messages)
