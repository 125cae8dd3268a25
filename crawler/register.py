"""Load and validate the source register: one YAML file per source → ``Source``.

The register is the public, justified list of what is crawled and why, so a file that
is wrong must fail loudly: every error names the file, the field and what is wrong,
unknown keys are rejected (a typo must not silently switch a selector off), and
ignoring robots.txt requires a written reason. A file's wrong fields are named all at
once (one line each), so it is fixed in one go. One bad file does not stop the others:
``load_register`` returns the valid sources and, apart, the errors of the invalid files
(their sources are not crawled); ``load_sources`` is the strict form.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin

import phonenumbers
import yaml
from parsel import Selector

from crawler.extract import SelectorError, select
from crawler.proxy_url import SocksProxy, check_http_proxy, is_socks_url
from crawler.site import listing_key, on_site, page_key, site_of, web_host
from crawler.source import Politeness, Section, Selectors, Source
from crawler.structured import is_structured
from indexer.model import SourceInfo, utcnow

T = TypeVar("T")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_ID_CHARS = 64
MAX_NUMBER = 1e6  # no setting of a source is sensibly larger (hours, seconds, requests)
MIN_INTERVAL_HOURS = 0.25  # a site is not crawled again within a quarter of an hour
MAX_INTERVAL_HOURS = 24 * 366.0
MAX_CONCURRENCY = 64  # requests in flight to one site
MAX_DELAY_S = 3600.0
EARLIEST_APPROVAL = date(2000, 1, 1)  # no crawl of ad sites was approved before (a slip)
_EMPTY_PAGE = Selector(text="<html></html>")  # selectors are tried on it: do they parse?
_TOP_REQUIRED = ("id", "name", "theme", "country", "base_url", "reason", "approved_by",
                 "approved_on", "sections", "selectors")
_TOP_OPTIONAL = ("enabled", "revisit_hours", "crawl_every_hours", "missing_runs_before_removed",
                 "politeness", "robots", "robots_reason",
                 "user_agent", "proxy", "spider")
_SELECTOR_KEYS = ("ad_links", "next_page", "ad_id", "fields", "images", "removed_marker",
                  "empty_listing")


class SourceError(ValueError):
    """A source file is invalid; each line of the message (``problems``) names file, field
    and problem. ``path`` is the file, ``source_id`` the id it gives when it gives a valid
    one (so a caller can say which source is not crawled), else ""."""

    def __init__(self, *problems: str, path: str = "", source_id: str = "") -> None:
        super().__init__("\n".join(problems))
        self.problems: tuple[str, ...] = problems
        self.path = path
        self.source_id = source_id

    def summary(self) -> str:
        """The first problem, and how many more there are: one line per file."""
        more = len(self.problems) - 1
        return self.problems[0] + (f" (and {more} more)" if more > 0 else "")


MERGE_TAG = "tag:yaml.org,2002:merge"
SHOWN_CHARS = 80  # a value quoted in an error message is cut to about this
_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = SHOWN_CHARS


def _shown(value: Any) -> str:
    """``value`` as an error message quotes it, at most about SHOWN_CHARS long. A few
    lines of YAML aliases make a list of millions of items (and Python refuses to write
    an int of over 4300 digits): quoted whole, one message would be that long, or fail.
    A list or mapping is named by its type and size: its items are not what is wrong."""
    if isinstance(value, (list, tuple, dict, set)):
        kind = "mapping" if isinstance(value, dict) else type(value).__name__
        return f"a {kind} of {len(value)} item(s)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"a number of about {int(value.bit_length() * math.log10(2))} digits"
    return _SHOWN.repr(value)


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
                    None, None, f"{_shown(key)} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """YAML 1.1 reads ``1:30`` as the number 90 (base 60): a file meant an hour and
        a half, or a time. Refused, so that it says which."""
        if ":" in str(node.value):
            raise yaml.constructor.ConstructorError(
                None, None, f"{_shown(node.value)} is read by YAML as a number in base 60 "
                f"({_shown(super().construct_yaml_int(node))}); write the number meant, or quote "
                "it if it is text", node.start_mark)
        return int(super().construct_yaml_int(node))

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A value YAML reads as a type it cannot build (``approved_on: 2026-02-30``, an
        impossible date) is an error of the file at that line, like bad syntax, not a
        crash of every command that reads the register."""
        try:
            return super().construct_object(node, deep=deep)  # type: ignore[no-untyped-call]
        except (ValueError, TypeError, OverflowError) as exc:
            kind = str(node.tag).rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"{_shown(node.value)} cannot be read as a {kind} ({exc}); quote it "
                "if it is text", node.start_mark) from None


class _Checker:
    """Field access with errors that say where: ``file: field: problem``. A check that
    fails raises; ``attempt`` keeps its problem and goes on, so that every wrong field of
    a file is named, and ``finish`` raises them all together."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[str] = []

    def fail(self, field: str, problem: str) -> SourceError:
        return SourceError(f"{self.path}: {field}: {problem}", path=self.path)

    def attempt(self, fallback: T, check: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``check(*args, **kwargs)``, or ``fallback`` with its problems kept."""
        try:
            return check(*args, **kwargs)
        except SourceError as exc:
            self.problems.extend(exc.problems)
            return fallback

    def finish(self) -> None:
        if self.problems:
            raise SourceError(*self.problems, path=self.path)

    def mapping(self, value: Any, field: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        """``value`` if it is a mapping (else raised); its unknown keys are a problem kept
        (the known ones are still checked), each quoted as any value is (``_shown``)."""
        if not isinstance(value, dict):
            raise self.fail(field, f"must be a mapping, not {type(value).__name__}")
        unknown = sorted(_shown(k) for k in value if k not in allowed)
        if unknown:
            self.problems.extend(self.fail(
                field, f"unknown key(s) [{', '.join(unknown)}]; allowed: {list(allowed)}"
            ).problems)
        return value

    def text(self, data: dict[str, Any], key: str, field: str, *, required: bool = True,
             default: str = "") -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(field, "is required and must not be empty")
            return default
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()  # 2026-11-22 reads back as written
        if not isinstance(value, str):
            raise self.fail(field, _not_text(value))
        return value.strip()

    def number(self, data: dict[str, Any], key: str, field: str, default: float,
               *, minimum: float = 0.0, maximum: float = MAX_NUMBER) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(field, f"must be a number, not {_shown(value)}")
        # YAML's .nan and .inf (floats: isfinite fails on an int too large for a float)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(field, f"must be a finite number, not {value}")
        if value < minimum:
            raise self.fail(field, f"must be at least {minimum}, not {_shown(value)}")
        if value > maximum:
            raise self.fail(field, f"must be at most {maximum}, not {_shown(value)}")
        return float(value)

    def selector(self, data: dict[str, Any], key: str, field: str, *,
                 required: bool = False, structured: bool = False) -> str:
        """A CSS or ``xpath:`` expression that parses: a typo is named here, not found by a
        crawl that then reads no ads. ``jsonld:``/``microdata:`` only where ``structured``
        (ad fields): elsewhere they would be read as CSS and match nothing."""
        expr = self.text(data, key, field, required=required)
        if expr and is_structured(expr):
            if not structured:
                raise self.fail(field, f"{_shown(expr)}: jsonld:/microdata: only work in "
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
            raise self.fail(field, f"must be true or false, not {_shown(value)}")
        return value


def _not_text(value: Any) -> str:
    """Why a value YAML read as another type is refused as text. YAML 1.1 reads unquoted
    ``0123`` as 83 (octal), ``0x1f`` as 31, ``1.10`` as 1.1 and ``NO`` (Norway) as false:
    taken as text, such a value would be silently another one, so the file is to say it
    in quotes."""
    if isinstance(value, bool):
        return (f"YAML reads this as {str(value).lower()} (unquoted yes/no/on/off/true/false "
                "are true or false), not as text: write the text in quotes, e.g. \"NO\"")
    if isinstance(value, (int, float)):
        return (f"YAML reads this as the number {_shown(value)}, not as text (a leading 0 is "
                "octal, 0x hex, 1.10 is 1.1): write the text in quotes, e.g. \"0123\"")
    if isinstance(value, datetime):
        return (f"YAML reads this as the time {value.isoformat()}, not as text: write the "
                "text in quotes")
    return f"must be text, not {type(value).__name__}"


def load_source(path: str | Path) -> Source:
    """Parse and validate one source file."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}", path=str(path)) from exc
    except yaml.YAMLError as exc:
        raise SourceError(f"{path}: not valid YAML: {exc}", path=str(path)) from exc
    try:
        return parse_source(raw, str(path))
    except SourceError as exc:
        given = raw.get("id") if isinstance(raw, dict) else None
        exc.source_id = given if isinstance(given, str) and ID_RE.match(given) else ""
        raise


def parse_source(raw: Any, path: str = "<source>") -> Source:
    """Validate a parsed YAML mapping into a Source; every wrong field is named."""
    c = _Checker(path)
    data = c.mapping(raw, "(top level)", _TOP_REQUIRED + _TOP_OPTIONAL)
    missing = [key for key in _TOP_REQUIRED if key not in data]
    for key in missing:
        c.problems.extend(c.fail(key, "is required").problems)

    def given(fallback: T, key: str, check: Callable[..., T], *args: Any) -> T:
        """A required field's check, unless it is missing (said once, above)."""
        return fallback if key in missing else c.attempt(fallback, check, *args)

    def text(key: str) -> str:
        return given("", key, c.text, data, key, key)

    base_url = given("", "base_url", _base_url, c, data)
    spider = c.attempt("", _spider, c, data)
    fields: dict[str, Any] = dict(
        id=given("", "id", _source_id, c, data), name=text("name"), theme=text("theme"),
        country=given("", "country", _country, c, data), base_url=base_url,
        reason=text("reason"), approved_by=text("approved_by"),
        approved_on=given("", "approved_on", _approved_on, c, data),
        robots=c.attempt("obey", c.text, data, "robots", "robots", required=False,
                         default="obey"),
        robots_reason=c.attempt("", c.text, data, "robots_reason", "robots_reason",
                                required=False),
        spider=spider, proxy=c.attempt("", _proxy, c, data),
        # sections are judged against base_url: only with a valid one
        sections=given((), "sections", _sections, c, data.get("sections"), base_url)
        if base_url else (),
        # a custom spider may read listings its own way; a misspelt one is named already
        selectors=given(None, "selectors", _selectors, c, data.get("selectors"),
                        spider == "generic"),
        enabled=c.attempt(True, c.flag, data, "enabled", "enabled", True),
        revisit_hours=c.attempt(24.0, c.number, data, "revisit_hours", "revisit_hours", 24.0,
                                minimum=MIN_INTERVAL_HOURS, maximum=MAX_INTERVAL_HOURS),
        crawl_every_hours=c.attempt(0.0, _crawl_every, c, data),
        missing_runs_before_removed=c.attempt(2, _whole, c, data,
                                              "missing_runs_before_removed", 2),
        politeness=c.attempt(Politeness(), _politeness, c,
                             _absent_as_empty(data.get("politeness"))),
        user_agent=c.attempt("", _header_value, c, data, "user_agent", "adtrace/0.1"),
    )
    if fields["robots"] not in {"obey", "ignore"}:
        c.problems.extend(c.fail("robots", f"{_shown(fields['robots'])} must be 'obey' or "
                                           "'ignore'").problems)
    elif fields["robots"] == "ignore" and not fields["robots_reason"]:
        c.problems.extend(c.fail("robots_reason", "is required when robots is 'ignore' "
                                                  "(say why)").problems)
    c.finish()
    return Source(**fields, path=path)


def _source_id(c: _Checker, data: dict[str, Any]) -> str:
    source_id = c.text(data, "id", "id")
    if not ID_RE.match(source_id):
        raise c.fail("id", f"{_shown(source_id)} must match [a-z0-9-]+")
    if len(source_id) > MAX_ID_CHARS:  # it names files (the crawl's lock, the spool's lines)
        raise c.fail("id", f"{source_id[:40]!r}… is {len(source_id)} characters long; at "
                     f"most {MAX_ID_CHARS}")
    return source_id


def _country(c: _Checker, data: dict[str, Any]) -> str:
    country = c.text(data, "country", "country").upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise c.fail("country", f"{_shown(country)} must be the ISO 3166 alpha-2 code of a country "
                     "with a phone numbering plan, such as NL (ads write its numbers without "
                     "+code)")
    return country


def _base_url(c: _Checker, data: dict[str, Any]) -> str:
    base_url = c.text(data, "base_url", "base_url")
    if not web_host(base_url):
        raise c.fail("base_url", f"{_shown(base_url)} must be an http(s) URL with a host")
    return base_url


def _approved_on(c: _Checker, data: dict[str, Any]) -> str:
    """A day that can have been the approval: a source is approved before it is crawled,
    so not after today (UTC, with a day's slack: where the approver is, it may be
    tomorrow already), nor before EARLIEST_APPROVAL (0001-01-01 or 1026 is a slip)."""
    approved_on = c.text(data, "approved_on", "approved_on")
    if not _is_date(approved_on):
        raise c.fail("approved_on", f"{_shown(approved_on)} must be a date, YYYY-MM-DD")
    day, today = date.fromisoformat(approved_on), utcnow().date()
    if day > today + timedelta(days=1):
        raise c.fail("approved_on", f"{approved_on} is after today ({today}, UTC): a source "
                     "is approved before it is crawled; write the day it was approved")
    if day < EARLIEST_APPROVAL:
        raise c.fail("approved_on", f"{approved_on} is before {EARLIEST_APPROVAL.year}, "
                     "older than any approval of a crawl of ad sites; a slip of the year?")
    return approved_on


def _proxy(c: _Checker, data: dict[str, Any]) -> str:
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
    return proxy


def _spider(c: _Checker, data: dict[str, Any]) -> str:
    """The spider's name, found now: a typo is named by ``sources check``, not by a crawl.
    A spider module that fails to import is this file's error, not the register's."""
    from crawler.spiders import UnknownSpider, spider_named

    name = c.text(data, "spider", "spider", required=False, default="generic")
    try:
        spider_named(name)
    except UnknownSpider as exc:
        raise c.fail("spider", str(exc)) from None
    except Exception as exc:  # the module's own code failed as it was imported
        raise c.fail("spider", f"{_shown(name)} cannot be loaded: {type(exc).__name__}: {exc}"
                     ) from None
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
    out = [c.attempt(None, _section, c, item, f"sections[{i}]", base_url, site)
           for i, item in enumerate(raw)]
    first: dict[str, int] = {}
    pages: dict[tuple[str, str, str], int] = {}
    for i, section in enumerate(out):
        if section is not None:
            c.attempt(None, _unique_name, c, section.name, i, first)
            c.attempt(None, _unique_page, c, section.url, i, base_url, pages)
    return tuple(s for s in out if s is not None)


def _unique_name(c: _Checker, name: str, i: int, first: dict[str, int]) -> None:
    """Each section its own name: the store keeps, with each ad, the sections that listed
    it, and a removal by absence asks whether they are still crawled (crawler.revisits)."""
    if name in first:
        raise c.fail(f"sections[{i}].name", f"{_shown(name)} is also the name of "
                     f"sections[{first[name]}]; each section needs a name of its own")
    first[name] = i


def _unique_page(c: _Checker, url: str, i: int, base_url: str,
                 first: dict[tuple[str, str, str], int]) -> None:
    """Each section its own start page, told apart as the crawl tells listing pages and
    sections apart (crawler.site: query order, escapes, scheme, www. and a trailing slash
    aside): the crawl reads a page once, so a second section of that page would never be
    read, and the ads it lists would be counted as another section's."""
    key = page_key(listing_key(urljoin(base_url, url)))
    if key in first:
        raise c.fail(f"sections[{i}].url", f"{_shown(url)} is also the page of "
                     f"sections[{first[key]}]; each section needs a page of its own")
    first[key] = i


def _section(c: _Checker, item: Any, field: str, base_url: str, site: str) -> Section:
    item = c.mapping(item, field, ("name", "url"))
    url = c.text(item, "url", f"{field}.url")
    absolute = urljoin(base_url, url)
    host = web_host(absolute)
    if not host:
        raise c.fail(f"{field}.url", f"{_shown(url)} is not an http(s) page of base_url")
    if not on_site(absolute, site):
        raise c.fail(f"{field}.url", f"{_shown(url)} is on {host}, not on the approved site "
                     f"{site} (base_url)")
    return Section(name=c.text(item, "name", f"{field}.name"), url=url)


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
        raise c.fail(key, f"{_shown(value)} must not contain line breaks or control characters")
    return value


def _absent_as_empty(value: Any) -> Any:
    """An optional mapping left empty (``politeness:`` or ``""``) is no mapping; anything
    else, ``false`` included, is checked as given (and refused if it is not a mapping)."""
    return {} if value is None or value == "" else value


def _politeness(c: _Checker, raw: Any) -> Politeness:
    data = c.mapping(raw, "politeness", ("download_delay", "concurrency", "autothrottle"))
    return Politeness(
        download_delay=c.attempt(1.0, c.number, data, "download_delay",
                                 "politeness.download_delay", 1.0, maximum=MAX_DELAY_S),
        concurrency=c.attempt(2, _concurrency, c, data),
        autothrottle=c.attempt(True, c.flag, data, "autothrottle", "politeness.autothrottle",
                               True),
    )


def _concurrency(c: _Checker, data: dict[str, Any]) -> int:
    concurrency = c.number(data, "concurrency", "politeness.concurrency", 2, minimum=1,
                           maximum=MAX_CONCURRENCY)
    if concurrency != int(concurrency):
        raise c.fail("politeness.concurrency", f"must be a whole number, not {concurrency}")
    return int(concurrency)


def _selectors(c: _Checker, raw: Any, links_required: bool = True) -> Selectors:
    """``links_required``: the generic spider reads listings with ``ad_links``; a custom
    spider may read them its own way (crawler.spiders.board_api)."""
    data = c.mapping(raw, "selectors", _SELECTOR_KEYS)
    ad_id = c.attempt({}, c.mapping, _absent_as_empty(data.get("ad_id")), "selectors.ad_id",
                      ("from_url", "css"))
    fields_raw = _absent_as_empty(data.get("fields"))
    if not isinstance(fields_raw, dict):
        c.problems.extend(c.fail("selectors.fields",
                                 "must be a mapping of field name to selector").problems)
        fields_raw = {}

    def selector(where: dict[str, Any], key: str, field: str, **how: Any) -> str:
        return c.attempt("", c.selector, where, key, field, **how)

    return Selectors(
        ad_links=selector(data, "ad_links", "selectors.ad_links", required=links_required),
        next_page=selector(data, "next_page", "selectors.next_page"),
        ad_id_from_url=c.attempt("", _ad_id_from_url, c, ad_id),
        ad_id_css=selector(ad_id, "css", "selectors.ad_id.css"),
        fields={str(k): selector(fields_raw, k, f"selectors.fields.{k}", required=True,
                                 structured=True) for k in fields_raw},
        images=selector(data, "images", "selectors.images"),
        removed_marker=selector(data, "removed_marker", "selectors.removed_marker"),
        empty_listing=selector(data, "empty_listing", "selectors.empty_listing"),
    )


def _ad_id_from_url(c: _Checker, ad_id: dict[str, Any]) -> str:
    from_url = c.text(ad_id, "from_url", "selectors.ad_id.from_url", required=False)
    if from_url:
        try:
            groups = re.compile(from_url).groups
        except re.error as exc:
            raise c.fail("selectors.ad_id.from_url", f"bad regex: {exc}") from exc
        if groups != 1:
            raise c.fail("selectors.ad_id.from_url", f"needs exactly one group, has {groups}")
    return from_url


def load_register(folder: str | Path) -> tuple[list[Source], list[SourceError]]:
    """Every valid source of ``folder`` (``*.yaml``/``*.yml``, by name) and, apart, one
    error per invalid file: one bad file does not stop the others, and its source is not
    crawled (an entry that is not valid is not an approved one). An id two files give is
    crawled from neither (which of them was approved?). A folder that cannot be read is
    raised."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"{folder}: not a folder of source files", path=str(folder))
    loaded: list[Source] = []
    errors: list[SourceError] = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            loaded.append(load_source(path))
        except SourceError as exc:
            errors.append(exc)
    first: dict[str, Source] = {}
    twice: set[str] = set()
    for source in loaded:
        if source.id not in first:
            first[source.id] = source
            continue
        if source.id not in twice:  # the first file is not crawled either: said of it too
            twice.add(source.id)
            errors.append(SourceError(
                f"{first[source.id].path}: id: {source.id!r} also given by {source.path}; "
                "neither file is crawled", path=first[source.id].path, source_id=source.id))
        errors.append(SourceError(
            f"{source.path}: id: {source.id!r} already used by {first[source.id].path}; "
            "neither file is crawled", path=source.path, source_id=source.id))
    return [s for s in loaded if s.id not in twice], errors


def load_sources(folder: str | Path, *, enabled_only: bool = False) -> list[Source]:
    """Every ``*.yaml``/``*.yml`` in ``folder``, validated; ids must be unique. Strict: the
    first invalid file is raised (``load_register`` goes on past it)."""
    sources, errors = load_register(folder)
    if errors:
        raise errors[0]
    return [s for s in sources if s.enabled or not enabled_only]


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


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _UniqueKeyLoader.construct_yaml_int)
