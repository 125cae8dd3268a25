"""Pure pieces of the web UI: highlighting, accounts, theme walls, secret key."""

from __future__ import annotations

import pytest

from indexer.search.query import Highlighted
from webui import audit, db
from webui.accounts import AccountError, add_user, authenticate, list_users, parse_themes
from webui.app import _secret_key
from webui.filters import highlight, merge_ranges


def test_highlight_escapes_every_piece_and_marks_ranges() -> None:
    text = "<b>Anna</b> & <i>co</i>"
    out = str(highlight(Highlighted(text, ((3, 7), (17, 19)))))
    assert out == "&lt;b&gt;<mark>Anna</mark>&lt;/b&gt; &amp; &lt;i&gt;<mark>co</mark>&lt;/i&gt;"


def test_highlight_inside_a_tag_like_text_stays_escaped() -> None:
    out = str(highlight(Highlighted("<script>x</script>", ((0, 8),))))
    assert out == "<mark>&lt;script&gt;</mark>x&lt;/script&gt;"
    assert str(highlight("<x>")) == "&lt;x&gt;" and str(highlight(None)) == ""


def test_ranges_are_clipped_and_merged() -> None:
    assert merge_ranges(((5, 9), (0, 2), (1, 4), (8, 50), (-3, 0), (7, 7)), 12) == [(0, 4), (5, 12)]


def test_accounts_store_scrypt_hashes_and_refuse_bad_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    conn = db.connect(tmp_path)
    user = add_user(conn, "ann", "long enough pw", themes=("trafficking",))
    stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("scrypt:") and "long enough" not in stored
    assert authenticate(conn, "ann", "long enough pw") == user
    assert authenticate(conn, "ann", "wrong") is None
    assert authenticate(conn, "nobody", "long enough pw") is None
    with pytest.raises(AccountError, match="'ann' already exists"):
        add_user(conn, "ann", "long enough pw")
    with pytest.raises(AccountError, match="role 'boss'"):
        add_user(conn, "bob", "long enough pw", role="boss")
    with pytest.raises(AccountError, match="password for 'bob'"):
        add_user(conn, "bob", "short")
    with pytest.raises(AccountError, match="user name"):
        add_user(conn, "bad name!", "long enough pw")
    assert [u.name for u in list_users(conn)] == ["ann"]
    conn.close()


def test_theme_walls() -> None:
    with pytest.raises(AccountError, match="theme 'Bad Theme'"):
        parse_themes("trafficking,Bad Theme")
    assert parse_themes(" trafficking, research ,trafficking") == ("trafficking", "research")


def test_unknown_audit_action_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    conn = db.connect(tmp_path)
    with pytest.raises(ValueError, match="'peek'"):
        audit.append(conn, "ann", "peek")
    audit.append(conn, "ann", "export", "q", {"rows": 3})
    assert audit.events(conn)[0].details == {"rows": 3}
    conn.close()


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ADTRACE_SECRET_KEY", raising=False)
    first = _secret_key(tmp_path)
    assert len(first) == 64 and _secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
