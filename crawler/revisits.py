"""When to refetch a known ad, and when an ad absent from the listings counts as removed.

Pure functions, so the rules are tested without a crawl.

Revisits: a known live ad is refetched when ``revisit_hours`` have passed since the start
of the run that last captured it (``seen_at_run_start``), measured from the start of this
run: an ad fetched three hours into yesterday's long run is due today as well, not every
other day. A grace of a tenth of the interval (at most an hour) covers a capture by a run
that left no record (killed) and clocks a little apart.

Removals by absence: a run whose listings were complete records which known live ads
they did not show. An ad is marked removed when it was missing from
``missing_runs_before_removed`` complete runs in a row (this one included). A run with
incomplete listings (a listing page failed) does not count, and breaks the row of an ad
it did list: it records which ads of a row under way it did not show
(``streak_missing``), so an ad absent from its record was listed, and is not gone. (A
run recorded before this rule has no such record: it breaks every row, which only
delays a removal.) A run that never ended (killed) neither counts nor breaks a row.
An ad that a section since taken off the register has listed is not missing from a
run's listings at all (``listed_outside``): it may still be listed there. The store
keeps which sections ever listed each ad (``section_key``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from crawler.source import Section
from indexer.crawl_runs import CrawlRun

MAX_GRACE = timedelta(hours=1)
# recent runs an ad's last capture is placed in; a capture before them counts from its own
# time, which is later than its run's start by at most that run's length
RUNS_LOOKED_AT = 20


def grace(revisit_hours: float) -> timedelta:
    return min(MAX_GRACE, timedelta(hours=revisit_hours) / 10)


def is_due(last_seen: datetime | None, run_start: datetime, revisit_hours: float) -> bool:
    """True when the ad's last capture is old enough to fetch it again this run."""
    if last_seen is None:
        return True
    interval = timedelta(hours=revisit_hours)
    return run_start - last_seen >= interval - grace(revisit_hours)


def seen_at_run_start(last_seen: datetime, runs: Sequence[CrawlRun]) -> datetime:
    """The start of the recorded run during which ``last_seen`` fell, else ``last_seen``.

    ``runs`` are the source's recorded runs, newest first."""
    for run in runs:
        if run.started <= last_seen <= run.finished:
            return run.started
        if run.finished < last_seen:
            break  # newest first: every run after this one ended before the capture
    return last_seen


def missing_ads(known: Iterable[str], listed: set[str]) -> list[str]:
    """Known live ads the listings did not show. A page that still answers does not save
    an ad: sites often keep the page of an ad they no longer list (expired, taken down)."""
    return sorted(i for i in known if i not in listed)


def removals_by_absence(missing_now: Sequence[str], earlier_runs: Sequence[CrawlRun],
                        threshold: int) -> list[str]:
    """Ads missing from ``threshold`` complete listings in a row, counting this run, and
    not listed by an incomplete run in between.

    ``earlier_runs`` are this source's recorded runs, newest first.
    """
    if threshold < 1:
        raise ValueError(f"missing_runs_before_removed must be at least 1, not {threshold}")
    return [i for i in missing_now if _missing_in_a_row(i, earlier_runs, threshold - 1)]


def _missing_in_a_row(site_ad_id: str, earlier_runs: Sequence[CrawlRun], needed: int) -> bool:
    """Whether the ``needed`` complete runs before this one all missed the ad, and no
    incomplete run among them (or before this one) listed it. A run that never ended
    (killed; or this one, recorded as it began) knows nothing of the listings: skipped."""
    for run in earlier_runs:
        if needed == 0:
            return True
        if not run.ended:
            continue
        if site_ad_id not in run.missing:
            return False  # listed: by a complete run, or by an incomplete one
        if run.listings_complete:
            needed -= 1
    return needed == 0


def streak_missing(not_listed: Iterable[str], earlier_runs: Sequence[CrawlRun]) -> tuple[str, ...]:
    """What an incomplete run records: the ads it did not list of those the latest
    complete run missed (the rows under way; ``earlier_runs`` newest first). Kept that
    small on purpose: a run whose first listing page failed lists nothing."""
    latest = next((r for r in earlier_runs if r.ended and r.listings_complete), None)
    if latest is None:
        return ()
    row = set(latest.missing)
    return tuple(sorted(i for i in not_listed if i in row))


def section_key(name: str, url: str) -> str:
    """How a section is kept with the ads it listed (LiveAd.listed_in): its name and its
    URL as the register writes them, so a section renamed, or moved to another address,
    is still known by the other."""
    return json.dumps([name, url], ensure_ascii=False)


def _name_and_url(key: str) -> tuple[str, str]:
    try:
        name, url = json.loads(key)
        return str(name), str(url)
    except (ValueError, TypeError):  # not a key section_key made: matches nothing here
        return key, "\0"


def section_names(keys: Iterable[str]) -> list[str]:
    """The names of sections kept as ``section_key``s, sorted (for messages)."""
    return sorted({_name_and_url(k)[0] for k in keys})


def not_crawled(keys: Iterable[str], sections: Sequence[Section]) -> set[str]:
    """The ``section_key``s of ``keys`` that none of ``sections`` is: a section is known
    by its name or its URL (one taken off the register; one renamed and moved at once
    reads so too)."""
    names = {s.name for s in sections}
    urls = {s.url for s in sections}
    out = set()
    for key in keys:
        name, url = _name_and_url(key)
        if name not in names and url not in urls:
            out.add(key)
    return out


def listed_outside(missing: Iterable[str], listed_in: Mapping[str, Collection[str]],
                   sections: Sequence[Section]) -> set[str]:
    """The ads of ``missing`` that a section this run did not crawl has listed
    (``not_crawled``): they may still be listed there, so their absence from this run's
    listings says nothing. An ad with no sections known (stored before sections were
    kept) is not one of them: its absence counts, as it always did."""
    return {i for i in missing if not_crawled(listed_in.get(i, ()), sections)}
