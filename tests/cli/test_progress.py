"""Progress bars on stderr: counts, rate and ETA (pure rendering, real stream)."""

from __future__ import annotations

import io

from adtrace.progress import ByteProgress, LateProgress, Progress, eta_text, render


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


def test_bytes_are_shown_in_whole_mib_with_the_rest_carried() -> None:
    out = io.StringIO()
    shown = ByteProgress(Progress("verify", 2, "MiB", stream=out, log_every_s=3600))
    for _ in range(3):
        shown.add(700 * 1024)  # 2100 KiB: two whole MiB, 52 KiB carried
    shown.close()
    assert shown.bar.done == 2 and shown.carry == 2100 * 1024 - 2 * (1 << 20)
    assert "2/2 MiB" in out.getvalue().splitlines()[-1]


def test_a_late_bar_starts_with_its_first_step_and_is_silent_without_one(monkeypatch) -> None:
    import sys

    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    idle = LateProgress("verify store", 10, "ads")
    idle.close()
    assert out.getvalue() == ""  # no store read: no line
    late = LateProgress("verify store", 1, "ads")
    late.advance()
    late.close()
    assert late.bar is not None and "1/1 ads" in out.getvalue().splitlines()[-1]
