"""The evidence report of one ad version: what an analyst cites in an official report.

One function gathers the facts (``evidence``: text, fields, images with hashes, the
captures with time, URL, SHA-256 and WARC location, the source and why it is crawled);
the printable page (templates/report.html) and the PDF (``pdf_bytes``, reportlab, pure
Python, no external program) both render that same dict, so they cannot disagree.
Ad content is hostile: in the PDF every string is escaped before reportlab's markup.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from indexer.model import AdRecord, SourceInfo, VersionRecord

MAX_PDF_IMAGES = 12
MAX_IMAGE_BYTES = 8 * 1024 * 1024


def evidence(record: AdRecord, version: VersionRecord, source: SourceInfo | None,
             user: str, now: datetime | None = None) -> dict[str, Any]:
    """Everything the report states, as plain data."""
    enr = version.enrichment
    return {
        "ad_id": record.id,
        "site_ad_id": record.site_ad_id,
        "url": record.url,
        "seq": version.seq,
        "versions": len(record.versions),
        "version_id": version.id,
        "fingerprint": version.fingerprint,
        "first_seen": version.first_seen,
        "last_seen": version.last_seen,
        "ad_first_seen": record.first_seen,
        "removed_at": record.removed_at,
        "title": version.fields.title,
        "text": version.fields.text,
        "attributes": sorted(version.fields.attributes.items()),
        "images": [{"sha256": i.sha256, "source_url": i.source_url, "phash": i.phash,
                    "content_type": i.content_type} for i in version.fields.images],
        "captures": [{"id": c.id, "fetched_at": c.fetched_at, "status": c.status, "url": c.url,
                      "sha256": c.sha256, "warc": f"{c.warc_file} @ {c.warc_offset}",
                      "revisit": bool(c.revisit_of)} for c in version.captures],
        "phones": [p.e164 for p in enr.phones],
        "identifiers": [f"{i.kind}: {i.value}" for i in enr.identifiers],
        "places": [p.name for p in enr.places],
        "indicators": [{"label": i.label, "level": i.evidence_level, "weight": i.weight,
                        "explanation": i.explanation, "evidence": [s.text for s in i.spans]}
                       for i in enr.indicators],
        "risk": enr.risk_score,
        "catalogue": enr.catalogue_version,
        "source": {"id": record.source_id, "name": source.name if source else record.source_id,
                   "theme": source.theme if source else "", "country": source.country if source else "",
                   "base_url": source.base_url if source else "",
                   "reason": source.reason if source else "",
                   "approved_by": source.approved_by if source else ""},
        "made_by": user,
        "made_at": now or datetime.now(UTC),
    }


def _when(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC") if ts else ""


def _p(text: object) -> str:
    """Hostile text as reportlab paragraph markup: escaped, line breaks kept."""
    return escape(str(text)).replace("\n", "<br/>")


def pdf_bytes(ev: dict[str, Any], image_bytes: Any = None) -> bytes:
    """The report as a PDF. ``image_bytes(sha256) -> bytes | None`` reads archived images."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["Code"]
    small.fontSize, small.leading = 7, 9
    out: list[Any] = [Paragraph(_p(f"Evidence report: ad {ev['ad_id']}, version {ev['seq']}"),
                                styles["Title"])]

    def table(rows: list[tuple[str, object]]) -> Table:
        t = Table([[Paragraph(_p(k), body), Paragraph(_p(v), body)] for k, v in rows],
                  colWidths=[40 * mm, 130 * mm])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]))
        return t

    src = ev["source"]
    out += [Paragraph("Ad and version", styles["Heading2"]), table([
        ("Site", f"{src['name']} ({src['id']}, {src['country']})"),
        ("Address (text)", ev["url"]), ("Site's ad id", ev["site_ad_id"]),
        ("Version", f"{ev['seq']} of {ev['versions']} (id {ev['version_id']})"),
        ("Content fingerprint", ev["fingerprint"]),
        ("Version seen", f"{_when(ev['first_seen'])} – {_when(ev['last_seen'])}"),
        ("Ad first seen", _when(ev["ad_first_seen"])),
        ("Removed", _when(ev["removed_at"]) or "no")])]
    out += [Paragraph("Why this source is crawled", styles["Heading2"]), table([
        ("Reason", src["reason"] or "(not recorded)"), ("Approved by", src["approved_by"] or "(not recorded)"),
        ("Theme", src["theme"]), ("Base address", src["base_url"])])]
    out += [Paragraph("Text as published", styles["Heading2"]),
            Paragraph(f"<b>{_p(ev['title'])}</b>", body), Paragraph(_p(ev["text"]), body)]
    if ev["attributes"]:
        out += [Spacer(1, 4 * mm), table(list(ev["attributes"]))]
    out += [Paragraph("Captures", styles["Heading2"])]
    for c in ev["captures"]:
        out.append(table([("Fetched", _when(c["fetched_at"])), ("HTTP status", c["status"]),
                          ("URL (text)", c["url"]), ("SHA-256", c["sha256"]),
                          ("WARC", c["warc"] + (" (revisit)" if c["revisit"] else ""))]))
        out.append(Spacer(1, 2 * mm))
    out += [Paragraph("Images", styles["Heading2"])]
    for img in ev["images"][:MAX_PDF_IMAGES]:
        out.append(Paragraph(_p(f"SHA-256 {img['sha256']}"), small))
        data = image_bytes(img["sha256"]) if image_bytes else None
        if data is not None and len(data) <= MAX_IMAGE_BYTES:
            try:
                out.append(Image(io.BytesIO(data), width=50 * mm, height=50 * mm,
                                 kind="proportional"))
            except Exception:  # noqa: BLE001 - a broken image must not lose the report
                out.append(Paragraph("(image not renderable; kept in the archive)", small))
    if not ev["images"]:
        out.append(Paragraph("none", body))
    out += [Paragraph("Read from the text (for the analyst to weigh)", styles["Heading2"]), table([
        ("Phone numbers", ", ".join(ev["phones"]) or "none"),
        ("Other identifiers", ", ".join(ev["identifiers"]) or "none"),
        ("Places", ", ".join(ev["places"]) or "none"),
        ("Risk score", f"{ev['risk']:.1f} (sum of indicator weights; catalogue {ev['catalogue'] or '?'})")])]
    for i in ev["indicators"]:
        out.append(Paragraph(_p(f"{i['label']} — evidence level {i['level']}, weight {i['weight']}: "
                                f"{i['explanation']} Evidence: {', '.join(i['evidence'])}"), body))
    out += [Spacer(1, 6 * mm), Paragraph(_p(f"Report made by {ev['made_by']} at "
                                            f"{_when(ev['made_at'])} with adtrace."), small)]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=f"adtrace evidence {ev['ad_id']} v{ev['seq']}",
                            author="adtrace", leftMargin=18 * mm, rightMargin=18 * mm)
    doc.build(out)
    return buf.getvalue()
