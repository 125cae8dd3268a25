"""Text from ad sites and from users, printed on an analyst's terminal.

A URL, a site's error message or a query typed in the UI can carry tabs, newlines and
terminal escape sequences; printed raw they forge or hide lines (a fake row of the audit
log), or drive the terminal itself. ``cell`` writes anything that is not printable as its
Python escape, so a field stays one visible cell of one line.
"""

from __future__ import annotations


def cell(text: str, keep_backslash: bool = False) -> str:
    """``text`` with every non-printable character (and, unless ``keep_backslash``, every
    backslash, so an escape cannot be faked) written as its escape."""
    return "".join(ch if ch.isprintable() and (keep_backslash or ch != "\\")
                   else ch.encode("unicode_escape").decode("ascii") for ch in text)
