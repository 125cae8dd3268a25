"""The evidence report of one ad version: a printable page and a PDF, both audited."""

from __future__ import annotations

import base64
import re
import zlib

from webui_world import HOSTILE_TITLE


def pdf_text(body: bytes) -> str:
    """The text drawn in a PDF: its content streams, inflated where compressed."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", body, re.S):
        data = raw.strip()
        try:
            if data.endswith(b"~>"):  # reportlab: ASCII85 over Flate
                data = base64.a85decode(data[:-2].replace(b"\n", b""))
            out.append(zlib.decompress(data).decode("latin-1"))
        except (zlib.error, ValueError):
            out.append(raw.decode("latin-1"))
    return "\n".join(out)


def test_printable_report_states_the_evidence(client, world, audit_rows):
    record_page = client.get(f"/ad/{world.anna_id}").get_data(as_text=True)
    sha = re.search(r'<code class="hash">([0-9a-f]{64})</code>', record_page).group(1)
    resp = client.get(f"/ad/{world.anna_id}/v/1/report")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Evidence report" in page and "version</span>" not in page
    assert "new in town" in page  # version 1's text, not the current one
    assert "only a few days" not in page
    assert "Why this source is crawled" in page and "maintainers" in page  # approved by
    assert world.image_sha in page  # the image hash, in full
    assert "warc/demo-velvet-0001.warc.gz @ 100" in page
    assert sha in record_page  # capture hashes are on the ad page too
    assert any(e.target == world.anna_id and e.details.get("format") == "report"
               for e in audit_rows("export"))


def test_pdf_report_is_a_real_pdf_with_hashes_and_escaped_text(client, world, audit_rows):
    resp = client.get(f"/ad/{world.lisa_id}/v/1/report.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "attachment" in resp.headers["Content-Disposition"]
    body = resp.get_data()
    assert body.startswith(b"%PDF-") and b"%%EOF" in body[-64:]
    text = pdf_text(body)
    assert "Evidence report" in text and "06-12345678" in text
    assert "alert" in text  # the hostile title is printed as text, not interpreted
    assert HOSTILE_TITLE not in body.decode("latin-1").split("stream")[0]
    events = [e for e in audit_rows("export") if e.target == world.lisa_id]
    assert events and events[0].details["format"] == "pdf" and events[0].details["bytes"] == len(body)


def test_pdf_embeds_the_archived_image(client, world):
    body = client.get(f"/ad/{world.anna_id}/v/2/report.pdf").get_data()
    assert b"/Subtype /Image" in body
    assert world.image_sha in pdf_text(body)


def test_report_of_unknown_version_or_hidden_ad_is_404(client, analyst, world):
    assert client.get(f"/ad/{world.anna_id}/v/9/report").status_code == 404
    assert client.get(f"/ad/{world.anna_id}/v/9/report.pdf").status_code == 404
    assert analyst.get(f"/ad/{world.trend_id}/v/1/report.pdf").status_code == 404
