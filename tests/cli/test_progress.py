"""The reindex progress bar: counts, rate and ETA on stderr (pure rendering, real stream)."""

from __future__ import annotations

import io

from adtrace.progress import Progress, eta_text, render


def test_render_shows_counts_rate_and_eta() -> None:
    line = render("reindex", 50, 200, 10.0, "versions")
    assert "[######------------------] 50/200 versions 5.0/s ETA 00:30" in line
    assert render("reindex", 200, 200, 4.0, "versions").endswith("50.0/s ETA 00:00")
    assert "ETA --:--" in render("x", 0, 10, 0.0, "captures")  # no rate yet: no guess
    assert render("x", 7, 0, 1.0, "ads") == "x 7 ads 7.0/s ETA 00:00"  # unknown total


def test_eta_text_formats_hours() -> None:
    assert eta_text(3725) == "1:02:05" and eta_text(59.6) == "01:00"


def test_a_non_terminal_stream_gets_whole_lines_and_always_a_final_one() -> None:
    out = io.StringIO()
    bar = Progress("reindex", 3, "versions", stream=out, log_every_s=3600)
    for _ in range(3):
        bar.advance()
    bar.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[-1].startswith("reindex [") and "3/3 versions" in lines[-1]
