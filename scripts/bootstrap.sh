#!/usr/bin/env bash
# Sets up everything adtrace needs on a fresh Debian machine with Python 3.11 and then
# runs one job:
#   bash scripts/bootstrap.sh demo [adtrace demo options]   crawl the demo world, serve the UI
#   bash scripts/bootstrap.sh test [pytest options]         run the whole test suite
# It is safe to run again: Debian packages are installed only when missing, and the
# virtual environment is rebuilt only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-demo}"
[ $# -gt 0 ] && shift
PY="${PYTHON:-python3}"
VENV=".venv"

say() { printf '\033[1m[adtrace setup]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "root rights are needed to run: $*"; return 1
  fi
}

apt_install() {  # install the named Debian packages that are not installed yet
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    say "not a Debian system: please install ${missing[*]} yourself"; return 1
  fi
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

check_python() {
  if ! command -v "$PY" >/dev/null 2>&1; then apt_install python3; fi
  "$PY" - <<'PYEOF' || { say "adtrace needs Python 3.11 or newer as $PY"; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PYEOF
  # Debian splits venv/ensurepip into python3-venv.
  "$PY" -c "import ensurepip, venv" 2>/dev/null || apt_install python3-venv python3-pip
  "$PY" -c "import sqlite3; c = sqlite3.connect(':memory:'); c.execute('create virtual table t using fts5(x)')" \
    || { say "this Python's sqlite3 has no FTS5; adtrace's embedded store needs it"; exit 1; }
}

setup_venv() {
  local stamp="$VENV/.adtrace-installed" want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  say "creating the virtual environment in $VENV and installing adtrace"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
}

case "$mode" in
  demo)
    check_python
    setup_venv
    exec "$VENV/bin/adtrace" demo "$@"
    ;;
  test)
    check_python
    # Headless Chromium drives the browser tests; fonts so screenshots show text.
    apt_install chromium chromium-driver fonts-dejavu-core
    setup_venv
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    say "unknown job '$mode': use 'demo' or 'test'"; exit 2
    ;;
esac
