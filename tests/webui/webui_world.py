"""Data and helpers for the web UI tests. A throw-away world: a real SQLite store filled through ``store.write``
with hand-made observations and enrichments, an archive with one real image, and two
accounts. Built once per module (scrypt hashing and SQLite setup are not free)."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from indexer.model import (
    AdFields,
    Capture,
    Enrichment,
    Identifier,
    ImageRef,
    IndicatorHit,
    Observation,
    Phone,
    Place,
    SourceInfo,
    Span,
    ad_id_for,
)
from indexer.store import open_store

PASSWORD = "correct horse battery"
PHONE = "+31612345678"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HOSTILE_TITLE = "<script>alert('x')</script> Lisa"
HOSTILE_TEXT = 'Lisa <img src=x onerror=alert(1)> in Amsterdam, bel 06-12345678 "quoted" & more'

VELVET = SourceInfo("demo-velvet", "Velvet Nights", "trafficking", "NL",
                    "http://127.0.0.1:8700/velvet/", "demo", "maintainers")
RESEARCH = SourceInfo("demo-trends", "Trend Board", "research", "BE",
                      "http://127.0.0.1:8700/trends/", "demo", "maintainers")


@dataclass(frozen=True)
class World:
    store_path: Path
    data_dir: Path
    archive_dir: Path
    image_sha: str
    anna_id: str
    lisa_id: str
    trend_id: str


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 60)).save(buf, format="PNG")
    return buf.getvalue()


def capture(url: str, at: datetime, body: str, offset: int) -> Capture:
    return Capture(url=url, fetched_at=at, status=200,
                   sha256=hashlib.sha256(body.encode()).hexdigest(),
                   warc_file="warc/demo-velvet-0001.warc.gz", warc_offset=offset,
                   warc_length=1000, content_type="text/html")


def span_of(doc: str, needle: str) -> Span:
    start = doc.index(needle)
    return Span(start, start + len(needle), needle)


def indicator(doc: str, needle: str) -> IndicatorHit:
    return IndicatorHit("movement", "Movement language", "movement", 0.5, "commonly_cited",
                        "Says the provider is new in town or only here a few days; "
                        "less often linked to trafficking than assumed.",
                        (span_of(doc, needle),))


def utrecht(doc: str) -> Place:
    return Place("Utrecht", "Utrecht", "Utrecht", "NL", 52.09, 5.12, span_of(doc, "Utrecht"))


def write_world(store_path: Path, image_sha: str) -> tuple[str, str, str]:
    store = open_store(str(store_path))
    try:
        store.upsert_source(VELVET)
        store.upsert_source(RESEARCH)
        # Anna: two versions (text changed), the second seen twice.
        url = "http://127.0.0.1:8700/velvet/ad/101"
        f1 = AdFields("Anna new in Utrecht", "Sweet Anna, new in town, call 0612345678",
                      {"city": "Utrecht"}, (ImageRef(image_sha, content_type="image/png"),))
        f2 = AdFields("Anna new in Utrecht", "Sweet Anna, only a few days, call 0612345678",
                      {"city": "Utrecht"}, (ImageRef(image_sha, content_type="image/png"),))
        for fields, at, off in ((f1, T0, 100), (f2, T0 + timedelta(days=2), 200),
                                (f2, T0 + timedelta(days=3), 300)):
            doc = fields.document()
            needle = "new in town" if "new in town" in doc else "only a few days"
            enr = Enrichment(
                phones=(Phone(PHONE, "0612345678", "NL", ("plain",), span_of(doc, "0612345678")),),
                places=(utrecht(doc),), indicators=(indicator(doc, needle),), language="en",
                catalogue_version="test-1")
            store.write(Observation("demo-velvet", "101", url, capture(url, at, doc, off), fields),
                        enr)
        # Lisa: hostile markup in title and text, same phone, an e-mail; later removed.
        url = "http://127.0.0.1:8700/velvet/ad/102"
        f = AdFields(HOSTILE_TITLE, HOSTILE_TEXT, {"city": "Amsterdam"})
        doc = f.document()
        enr = Enrichment(
            phones=(Phone(PHONE, "06-12345678", "NL", ("separators",), span_of(doc, "06-12345678")),),
            identifiers=(Identifier("email", "lisa@example.com", "lisa@example.com"),
                         Identifier("url", "http://evil.example/track", "evil.example/track")),
            places=(Place("Amsterdam", "Amsterdam", "Noord-Holland", "NL", 52.37, 4.9,
                          span_of(doc, "Amsterdam")),),
            language="en")
        store.write(Observation("demo-velvet", "102", url,
                                capture(url, T0 + timedelta(days=1), doc, 400), f), enr)
        store.mark_removed("demo-velvet", "102", T0 + timedelta(days=5), "gone from listing")
        # A research-theme ad that an analyst granted only 'trafficking' must not see.
        url = "http://127.0.0.1:8700/trends/ad/9"
        f = AdFields("Trend Utrecht weekly", "Utrecht research sample, call +32470123456")
        doc = f.document()
        enr = Enrichment(phones=(Phone("+32470123456", "+32470123456", "BE"),),
                         places=(utrecht(doc),), language="en")
        store.write(Observation("demo-trends", "9", url,
                                capture(url, T0 + timedelta(days=1), doc, 500), f), enr)
    finally:
        store.close()
    return (ad_id_for("demo-velvet", "101"), ad_id_for("demo-velvet", "102"),
            ad_id_for("demo-trends", "9"))


def build_world(root: Path, users: dict[str, tuple[str, ...] | None]) -> World:
    """The whole world under ``root``: the archived image, the store and the accounts.
    ``users`` maps a name to the themes of an analyst, or to None for an admin; all
    share ``PASSWORD``."""
    from webui import db
    from webui.accounts import add_user

    archive, data = root / "archive", root / "data"
    body = png_bytes()
    sha = hashlib.sha256(body).hexdigest()
    (archive / "images" / sha[:2]).mkdir(parents=True)
    (archive / "images" / sha[:2] / f"{sha}.png").write_bytes(body)
    anna, lisa, trend = write_world(root / "store.sqlite3", sha)
    conn = db.connect(data)
    try:
        for name, themes in users.items():
            if themes is None:
                add_user(conn, name, PASSWORD, role="admin")
            else:
                add_user(conn, name, PASSWORD, role="analyst", themes=themes)
    finally:
        conn.close()
    return World(root / "store.sqlite3", data, archive, sha, anna, lisa, trend)


def token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, name: str = "ada", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """The whole sign-in: password, then the notice accepted."""
    token = token_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = client.get("/notice").get_data(as_text=True)
    resp = client.post("/notice", data={"accept": "yes", "csrf_token": token_from(page)})
    assert resp.status_code == 302
    return client
