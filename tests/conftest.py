"""Session-wide test hooks: only the note that the Elasticsearch contract run was skipped."""

from __future__ import annotations

import os


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say plainly when the store contract ran against SQLite only."""
    ran_contract = any(
        "tests/contract" in str(getattr(r, "nodeid", "")).replace("\\", "/")
        for key in ("passed", "failed", "skipped", "error")
        for r in terminalreporter.stats.get(key, [])
    )
    if ran_contract and not os.environ.get("ADTRACE_TEST_ES_URL"):
        terminalreporter.write_line(
            "NOTE: store contract tests ran against SQLite only; Elasticsearch was skipped "
            "(set ADTRACE_TEST_ES_URL=http://127.0.0.1:9200 to run them against Elasticsearch).",
            yellow=True,
        )
