"""Load and validate the source register: one YAML file per source → ``Source``.

The register is the public, justified list of what is crawled and why, so a file that
is wrong must fail loudly: every error names the file, the field and what is wrong,
unknown keys are rejected (a typo must not silently switch a selector off), and
ignoring robots.txt requires a written reason.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import phonenumbers
import yaml
from parsel import Selector

from crawler.extract import SelectorError, select
from crawler.proxy_url import SocksProxy, check_http_proxy, is_socks_url
from crawler.site import on_site, site_of, web_host
from crawler.source import Politeness, Section, Selectors, Source
from crawler.structured import is_structured
from indexer.model import SourceInfo

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_NUMBER = 1e6  # no setting of a source is sensibly larger (hours, seconds, requests)
MIN_INTERVAL_HOURS = 0.25  # a site is not crawled again within a quarter of an hour
MAX_INTERVAL_HOURS = 24 * 366.0
MAX_CONCURRENCY = 64  # requests in flight to one site
MAX_DELAY_S = 3600.0
_EMPTY_PAGE = Selector(text="<html></html>")  # selectors are tried on it: do they parse?
_TOP_REQUIRED = ("id", "name", "theme", "country", "base_url", "reason", "approved_by",
                 "approved_on", "sections", "selectors")
_TOP_OPTIONAL = ("enabled", "revisit_hours", "crawl_every_hours", "missing_runs_before_removed",
                 "politeness", "robots", "robots_reason",
                 "user_agent", "proxy", "spider")
_SELECTOR_KEYS = ("ad_links", "next_page", "ad_id", "fields", "images", "removed_marker",
                  "empty_listing")


class SourceError(ValueError):
    """A source file is invalid; the message names file, field and problem."""


MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping: the second would
    silently win (a second ``fields:`` block would drop the first's selectors)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == MERGE_TAG:  # ``<<: *defaults``: merged keys may be overridden
                key: Any = "<<"             # …but a second ``<<`` would replace the first
            else:
                key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if not isinstance(key, (str, int, float, bool, type(None))):
                continue  # an unhashable key: the safe loader says so itself
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _Checker:
    """Field access with errors that say where: ``file: field: problem``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, field: str, problem: str) -> SourceError:
        return SourceError(f"{self.path}: {field}: {problem}")

    def mapping(self, value: Any, field: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field, f"must be a mapping, not {type(value).__name__}")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.fail(field, f"unknown key(s) {unknown}; allowed: {list(allowed)}")
        return value

    def text(self, data: dict[str, Any], key: str, field: str, *, required: bool = True,
             default: str = "") -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(field, "is required and must not be empty")
            return default
        if isinstance(value, date):
            return value.isoformat()
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise self.fail(field, f"must be text, not {type(value).__name__}")
        return str(value).strip()

    def number(self, data: dict[str, Any], key: str, field: str, default: float,
               *, minimum: float = 0.0, maximum: float = MAX_NUMBER) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(field, f"must be a number, not {value!r}")
        if not math.isfinite(value):  # YAML's .nan and .inf: no interval, no delay
            raise self.fail(field, f"must be a finite number, not {value}")
        if value < minimum:
            raise self.fail(field, f"must be at least {minimum}, not {value}")
        if value > maximum:
            raise self.fail(field, f"must be at most {maximum}, not {value}")
        return float(value)

    def selector(self, data: dict[str, Any], key: str, field: str, *,
                 required: bool = False, structured: bool = False) -> str:
        """A CSS or ``xpath:`` expression that parses: a typo is named here, not found by a
        crawl that then reads no ads. ``jsonld:``/``microdata:`` only where ``structured``
        (ad fields): elsewhere they would be read as CSS and match nothing."""
        expr = self.text(data, key, field, required=required)
        if expr and is_structured(expr):
            if not structured:
                raise self.fail(field, f"{expr!r}: jsonld:/microdata: only work in "
                                       "selectors.fields; use CSS or xpath: here")
        elif expr:
            try:
                select(_EMPTY_PAGE, expr)
            except SelectorError as exc:
                raise self.fail(field, str(exc)) from None
        return expr

    def flag(self, data: dict[str, Any], key: str, field: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(field, f"must be true or false, not {value!r}")
        return value


def load_source(path: str | Path) -> Source:
    """Parse and validate one source file."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SourceError(f"{path}: not valid YAML: {exc}") from exc
    return parse_source(raw, str(path))


def parse_source(raw: Any, path: str = "<source>") -> Source:
    """Validate a parsed YAML mapping into a Source."""
    c = _Checker(path)
    data = c.mapping(raw, "(top level)", _TOP_REQUIRED + _TOP_OPTIONAL)
    for key in _TOP_REQUIRED:
        if key not in data:
            raise c.fail(key, "is required")
    source_id = c.text(data, "id", "id")
    if not ID_RE.match(source_id):
        raise c.fail("id", f"{source_id!r} must match [a-z0-9-]+")
    country = c.text(data, "country", "country").upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise c.fail("country", f"{country!r} must be the ISO 3166 alpha-2 code of a country "
                     "with a phone numbering plan, such as NL (ads write its numbers without "
                     "+code)")
    base_url = c.text(data, "base_url", "base_url")
    if not web_host(base_url):
        raise c.fail("base_url", f"{base_url!r} must be an http(s) URL with a host")
    approved_on = c.text(data, "approved_on", "approved_on")
    if not _is_date(approved_on):
        raise c.fail("approved_on", f"{approved_on!r} must be a date, YYYY-MM-DD")
    robots = c.text(data, "robots", "robots", required=False, default="obey")
    if robots not in {"obey", "ignore"}:
        raise c.fail("robots", f"{robots!r} must be 'obey' or 'ignore'")
    robots_reason = c.text(data, "robots_reason", "robots_reason", required=False)
    if robots == "ignore" and not robots_reason:
        raise c.fail("robots_reason", "is required when robots is 'ignore' (say why)")
    spider = _spider(c, data)
    proxy = c.text(data, "proxy", "proxy", required=False)
    if is_socks_url(proxy):
        try:
            SocksProxy.parse(proxy)
        except ValueError as exc:
            raise c.fail("proxy", f"{exc} (SOCKS: socks5h://[user:password@]host:port, "
                         "e.g. Tor's socks5h://127.0.0.1:9050; SOCKS4 is not supported)"
                         ) from None
    elif proxy:
        try:
            check_http_proxy(proxy)
        except ValueError as exc:
            raise c.fail("proxy", str(exc)) from None
    return Source(
        id=source_id, name=c.text(data, "name", "name"), theme=c.text(data, "theme", "theme"),
        country=country, base_url=base_url, reason=c.text(data, "reason", "reason"),
        approved_by=c.text(data, "approved_by", "approved_by"),
        approved_on=approved_on, sections=_sections(c, data["sections"], base_url),
        selectors=_selectors(c, data["selectors"], links_required=spider == "generic"),
        enabled=c.flag(data, "enabled", "enabled", True),
        revisit_hours=c.number(data, "revisit_hours", "revisit_hours", 24.0,
                               minimum=MIN_INTERVAL_HOURS, maximum=MAX_INTERVAL_HOURS),
        crawl_every_hours=_crawl_every(c, data),
        missing_runs_before_removed=_whole(c, data, "missing_runs_before_removed", 2),
        politeness=_politeness(c, _absent_as_empty(data.get("politeness"))),
        robots=robots, robots_reason=robots_reason,
        user_agent=_header_value(c, data, "user_agent", "adtrace/0.1"),
        proxy=proxy, spider=spider,
        path=path,
    )


def _spider(c: _Checker, data: dict[str, Any]) -> str:
    """The spider's name, found now: a typo is named by ``sources check``, not by a crawl."""
    from crawler.spiders import UnknownSpider, spider_named

    name = c.text(data, "spider", "spider", required=False, default="generic")
    try:
        spider_named(name)
    except UnknownSpider as exc:
        raise c.fail("spider", str(exc)) from None
    return name


def _crawl_every(c: _Checker, data: dict[str, Any]) -> float:
    """0 (the default) means every revisit_hours; else at least MIN_INTERVAL_HOURS: a site
    crawled again minutes after the last run is not crawled politely."""
    hours = c.number(data, "crawl_every_hours", "crawl_every_hours", 0.0,
                     maximum=MAX_INTERVAL_HOURS)
    if 0 < hours < MIN_INTERVAL_HOURS:
        raise c.fail("crawl_every_hours", f"must be 0 (every revisit_hours) or at least "
                     f"{MIN_INTERVAL_HOURS}, not {hours}")
    return hours


def _whole(c: _Checker, data: dict[str, Any], key: str, default: int) -> int:
    value = c.number(data, key, key, default, minimum=1)
    if value != int(value):
        raise c.fail(key, f"must be a whole number, not {value}")
    return int(value)


def _sections(c: _Checker, raw: Any, base_url: str) -> tuple[Section, ...]:
    """Each section's URL, relative to base_url, must stay on the approved site: a
    ``javascript:`` link or another site's page is not what was approved."""
    if not isinstance(raw, list) or not raw:
        raise c.fail("sections", "must be a non-empty list of {name, url}")
    site = site_of(base_url)
    out = []
    for i, item in enumerate(raw):
        field = f"sections[{i}]"
        item = c.mapping(item, field, ("name", "url"))
        url = c.text(item, "url", f"{field}.url")
        absolute = urljoin(base_url, url)
        host = web_host(absolute)
        if not host:
            raise c.fail(f"{field}.url", f"{url!r} is not an http(s) page of base_url")
        if not on_site(absolute, site):
            raise c.fail(f"{field}.url", f"{url!r} is on {host}, not on the approved site "
                         f"{site} (base_url)")
        out.append(Section(name=c.text(item, "name", f"{field}.name"), url=url))
    return tuple(out)


def _is_date(text: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _header_value(c: _Checker, data: dict[str, Any], key: str, default: str) -> str:
    """Text sent as an HTTP header: no line breaks or other control characters, which
    would end the header and start another."""
    value = c.text(data, key, key, required=False, default=default)
    if re.search(r"[\x00-\x08\x0a-\x1f\x7f]", value):  # a tab is allowed in a header
        raise c.fail(key, f"{value!r} must not contain line breaks or control characters")
    return value


def _absent_as_empty(value: Any) -> Any:
    """An optional mapping left empty (``politeness:`` or ``""``) is no mapping; anything
    else, ``false`` included, is checked as given (and refused if it is not a mapping)."""
    return {} if value is None or value == "" else value


def _politeness(c: _Checker, raw: Any) -> Politeness:
    data = c.mapping(raw, "politeness", ("download_delay", "concurrency", "autothrottle"))
    concurrency = c.number(data, "concurrency", "politeness.concurrency", 2, minimum=1,
                           maximum=MAX_CONCURRENCY)
    if concurrency != int(concurrency):
        raise c.fail("politeness.concurrency", f"must be a whole number, not {concurrency}")
    return Politeness(
        download_delay=c.number(data, "download_delay", "politeness.download_delay", 1.0,
                                maximum=MAX_DELAY_S),
        concurrency=int(concurrency),
        autothrottle=c.flag(data, "autothrottle", "politeness.autothrottle", True),
    )


def _selectors(c: _Checker, raw: Any, *, links_required: bool = True) -> Selectors:
    """``links_required``: the generic spider reads listings with ``ad_links``; a custom
    spider may read them its own way (crawler.spiders.board_api)."""
    data = c.mapping(raw, "selectors", _SELECTOR_KEYS)
    ad_id = c.mapping(_absent_as_empty(data.get("ad_id")), "selectors.ad_id",
                      ("from_url", "css"))
    from_url = c.text(ad_id, "from_url", "selectors.ad_id.from_url", required=False)
    if from_url:
        try:
            groups = re.compile(from_url).groups
        except re.error as exc:
            raise c.fail("selectors.ad_id.from_url", f"bad regex: {exc}") from exc
        if groups != 1:
            raise c.fail("selectors.ad_id.from_url", f"needs exactly one group, has {groups}")
    fields_raw = _absent_as_empty(data.get("fields"))
    if not isinstance(fields_raw, dict):
        raise c.fail("selectors.fields", "must be a mapping of field name to selector")
    fields = {str(k): c.selector(fields_raw, k, f"selectors.fields.{k}", required=True,
                                    structured=True)
              for k in fields_raw}
    return Selectors(
        ad_links=c.selector(data, "ad_links", "selectors.ad_links", required=links_required),
        next_page=c.selector(data, "next_page", "selectors.next_page"),
        ad_id_from_url=from_url,
        ad_id_css=c.selector(ad_id, "css", "selectors.ad_id.css"),
        fields=fields,
        images=c.selector(data, "images", "selectors.images"),
        removed_marker=c.selector(data, "removed_marker", "selectors.removed_marker"),
        empty_listing=c.selector(data, "empty_listing", "selectors.empty_listing"),
    )


def load_sources(folder: str | Path, *, enabled_only: bool = False) -> list[Source]:
    """Every ``*.yaml``/``*.yml`` in ``folder``, validated; ids must be unique."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"{folder}: not a folder of source files")
    sources: list[Source] = []
    seen: dict[str, str] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        source = load_source(path)
        if source.id in seen:
            raise SourceError(f"{path}: id: {source.id!r} already used by {seen[source.id]}")
        seen[source.id] = str(path)
        if source.enabled or not enabled_only:
            sources.append(source)
    return sources


def source_info(source: Source) -> SourceInfo:
    """What the store keeps of a source."""
    return SourceInfo(id=source.id, name=source.name, theme=source.theme,
                      country=source.country, base_url=source.base_url,
                      reason=source.reason, approved_by=source.approved_by,
                      approved_on=str(source.approved_on or ""),
                      sections=tuple(f"{s.name}: {s.url}" for s in source.sections),
                      enabled=source.enabled)


def source_to_dict(source: Source) -> dict[str, Any]:
    """A Source as JSON-ready data (for the crawl child process)."""
    return asdict(source)


def source_from_dict(data: dict[str, Any]) -> Source:
    """Inverse of ``source_to_dict`` (trusted data written by ``source_to_dict``)."""
    d = dict(data)
    d["sections"] = tuple(Section(**s) for s in d["sections"])
    d["selectors"] = Selectors(**d["selectors"])
    d["politeness"] = Politeness(**d["politeness"])
    return Source(**d)
