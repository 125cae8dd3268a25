"""Alerts: re-run every saved search and watched number; new matches go to the inbox
and, when SMTP is configured and the user gave an address, into one e-mail per user.

Called after every crawl (``adtrace crawl`` calls ``run_all`` from its CLI layer: the
crawler package itself never imports the web UI) and by ``adtrace alerts run``.
"New" means an ad this saved search (or watch entry) has not reported before; the ads
matching when a search is saved are its baseline and are not reported. Each search runs
with its owner's theme wall, so an alert never reveals an ad the owner may not see.

The e-mail carries only counts, names and ad ids, never ad text: mail leaves the closed
system, and ad content is hostile and sensitive (data minimisation).
"""

from __future__ import annotations

import logging
import smtplib
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from indexer.search.parse import parse_args
from indexer.search.query import MAX_PER_PAGE, Hit, Query, QueryError
from webui import db, saved_db
from webui.accounts import User, get_user

log = logging.getLogger(__name__)
# Matches read per saved search and run, newest first. A search broader than this is no
# alert any more (the page says so when it is saved); it bounds the work after a crawl.
ALERT_LIMIT = 1000


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "adtrace@localhost"
    timeout_s: float = 10.0

    @classmethod
    def from_settings(cls) -> SmtpConfig | None:
        """None when no SMTP host is configured (alerts then stay in the inbox)."""
        from adtrace import settings

        host = str(settings.get("smtp_host") or "").strip()
        if not host:
            return None
        return cls(host, int(settings.get("smtp_port")), str(settings.get("smtp_from")))


@dataclass
class AlertReport:
    searches: int = 0
    watches: int = 0
    new_matches: int = 0
    mails_sent: int = 0
    errors: list[str] = field(default_factory=list)
    per_user: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"alerts: {self.searches} saved search(es), {self.watches} watched number(s), "
               f"{self.new_matches} new match(es), {self.mails_sent} e-mail(s) sent"]
        return out + [f"alerts: {e}" for e in self.errors]


def args_mapping(args: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for key, value in args:
        out[key].append(value)
    return dict(out)


def walled_query(args: tuple[tuple[str, str], ...], user: User) -> Query:
    """The saved search as a Query behind its owner's theme wall (QueryError if bad)."""
    return replace(parse_args(args_mapping(args)), themes=user.visible_themes)


def search_hits(store: Any, query: Query, limit: int | None = None) -> Iterator[Hit]:
    """Every hit of a query, newest first, up to ``limit`` (default ALERT_LIMIT)."""
    limit = ALERT_LIMIT if limit is None else limit
    query = replace(query, page=1, per_page=MAX_PER_PAGE, facets=(), sort="newest")
    served = 0
    while served < limit:
        result = store.search(query)
        for hit in result.hits[: limit - served]:
            served += 1
            yield hit
        if query.page >= result.pages or not result.hits:
            return
        query = query.with_page(query.page + 1)


def visible_phone_hits(store: Any, phone: str, user: User) -> list[Hit]:
    """Ads that carried a number, limited to the themes the user may see."""
    themes = {s.id: s.theme for s in store.sources()}
    return [h for h in store.ads_for_identifier("phone", phone)
            if (h.source_id in themes and user.may_see(themes[h.source_id]))
            or (h.source_id not in themes and user.visible_themes is None)]


def baseline_search(store: Any, conn: sqlite3.Connection, saved: saved_db.SavedSearch,
                    user: User) -> int:
    """Mark what a just-saved search matches now as seen (not new); how many."""
    hits = search_hits(store, walled_query(saved.args, user))
    matches = [(h.ad_id, h.title) for h in hits]
    saved_db.record_matches(conn, user.name, "search", saved.id, saved.name, matches, False)
    return len(matches)


def baseline_watch(store: Any, conn: sqlite3.Connection, watch: saved_db.WatchNumber,
                   user: User) -> int:
    matches = [(h.ad_id, h.title) for h in visible_phone_hits(store, watch.phone, user)]
    saved_db.record_matches(conn, user.name, "watch", watch.id, watch.label or watch.phone,
                            matches, False)
    return len(matches)


def _active_user(conn: sqlite3.Connection, name: str, cache: dict[str, User | None]) -> User | None:
    if name not in cache:
        user = get_user(conn, name)
        cache[name] = user if user is not None and not user.disabled else None
    return cache[name]


def _note(report: AlertReport, user: str, label: str, new: list[tuple[str, str]]) -> None:
    if new:
        report.new_matches += len(new)
        report.per_user.setdefault(user, []).append((label, [ad_id for ad_id, _ in new]))


def run_searches(store: Any, conn: sqlite3.Connection, report: AlertReport,
                 users: dict[str, User | None]) -> None:
    for saved in saved_db.searches(conn):
        user = _active_user(conn, saved.user, users)
        if user is None:
            continue
        report.searches += 1
        try:
            query = walled_query(saved.args, user)
        except QueryError as exc:
            report.errors.append(f"saved search {saved.id} ({saved.name!r}) of {saved.user}: {exc}")
            continue
        matches = [(h.ad_id, h.title) for h in search_hits(store, query)]
        new = saved_db.record_matches(conn, user.name, "search", saved.id, saved.name,
                                      matches, True)
        _note(report, user.name, f"saved search {saved.name!r}", new)


def run_watches(store: Any, conn: sqlite3.Connection, report: AlertReport,
                users: dict[str, User | None]) -> None:
    for watch in saved_db.watches(conn):
        user = _active_user(conn, watch.user, users)
        if user is None:
            continue
        report.watches += 1
        matches = [(h.ad_id, h.title) for h in visible_phone_hits(store, watch.phone, user)]
        label = watch.label or watch.phone
        new = saved_db.record_matches(conn, user.name, "watch", watch.id, label, matches, True)
        _note(report, user.name, f"watched number {watch.phone}"
              + (f" ({watch.label})" if watch.label else ""), new)


def mail_text(user: str, found: list[tuple[str, list[str]]]) -> str:
    lines = [f"adtrace found new matches for {user}.", ""]
    for label, ad_ids in found:
        lines.append(f"{label}: {len(ad_ids)} new ad(s)")
        lines += [f"  /ad/{ad_id}" for ad_id in ad_ids[:50]]
        if len(ad_ids) > 50:
            lines.append(f"  … and {len(ad_ids) - 50} more in your inbox")
    lines += ["", "Open your inbox in adtrace to review them. This message holds no ad content."]
    return "\n".join(lines) + "\n"


def send_mails(conn: sqlite3.Connection, smtp: SmtpConfig, report: AlertReport) -> None:
    """One message per user with new matches and an address; failures are reported,
    never lost silently (the inbox rows exist either way)."""
    for user, found in report.per_user.items():
        address = saved_db.email_of(conn, user)
        if not address:
            continue
        msg = EmailMessage()
        msg["From"], msg["To"] = smtp.sender, address
        total = sum(len(ids) for _, ids in found)
        msg["Subject"] = f"adtrace: {total} new match(es)"
        msg.set_content(mail_text(user, found))
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
                client.send_message(msg)
            report.mails_sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            report.errors.append(f"e-mail to {user} via {smtp.host}:{smtp.port} failed: {exc}")


def run_all(store: Any, data_dir: str | Path, smtp: SmtpConfig | None = None,
            use_settings: bool = True) -> AlertReport:
    """Re-run every saved search and watched number now; see the module docstring.

    ``smtp`` None reads the SMTP settings (unless ``use_settings`` is False).
    """
    if smtp is None and use_settings:
        smtp = SmtpConfig.from_settings()
    report = AlertReport()
    conn = db.connect(data_dir)
    try:
        users: dict[str, User | None] = {}
        run_searches(store, conn, report, users)
        run_watches(store, conn, report, users)
        if smtp is not None:
            send_mails(conn, smtp, report)
    finally:
        conn.close()
    for line in report.lines():
        log.info(line)
    return report
