"""Text from ad sites and from users, printed on an analyst's terminal.

A URL, a site's error message or a query typed in the UI can carry tabs, newlines and
terminal escape sequences; printed raw they forge or hide lines (a fake row of the audit
log), or drive the terminal itself. ``cell`` writes anything that is not printable as its
Python escape, so a field stays one visible cell of one line.
"""

from __future__ import annotations

import json


def cell(text: str, keep_backslash: bool = False) -> str:
    """``text`` with every non-printable character (and, unless ``keep_backslash``, every
    backslash, so an escape cannot be faked) written as its escape."""
    return "".join(ch if ch.isprintable() and (keep_backslash or ch != "\\")
                   else ch.encode("unicode_escape").decode("ascii") for ch in text)


def json_line(obj: object) -> str:
    """``obj`` as one line of JSON that is safe on a terminal: the same value, with every
    character that is not printable (C1 controls, bidi overrides, line separators, which
    ``json.dumps(ensure_ascii=False)`` leaves raw) written as its ``\\u`` escape."""
    text = json.dumps(obj, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _json_escape(ch) for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells a character beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
