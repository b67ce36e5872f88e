# Sourced by the other scripts: a virtualenv in .venv with Parity and the exact versions of the lock
# files installed, re-installed when a lock file or pyproject.toml changes (docs/dependencies.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Parity needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
install_parity() {  # $1: extras: "" (requirements.txt) or "[dev]" (requirements-dev.txt)
  local lock
  case "$1" in
    "") lock=requirements.txt ;;
    "[dev]") lock=requirements-dev.txt ;;
    *) echo "install_parity: no lock file for extras '$1'" >&2; return 1 ;;
  esac
  # Keyed on content, not modification times: a fresh clone or a checkout gives every file a new time.
  local stamp=".venv/.installed-$lock" fingerprint
  fingerprint=$(sha256sum "$lock" pyproject.toml)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$fingerprint" ]; then
    # The lock holds every package, the build backend and pip included, each with its hashes: nothing
    # is resolved or fetched unlocked, and Parity itself is built with the locked setuptools. The locked
    # pip goes first, on its own: the one a new virtualenv comes with installs the rest half as fast.
    # What pip and the build backend print (an editable install's notices among it) is shown only when a step
    # fails, so that `make run` opens quietly.
    local output
    output=$(mktemp)
    if ! { .venv/bin/python -m pip install --quiet --require-hashes --no-deps \
             -r <(awk '/^[^ #]/ { keep = /^pip==/ } keep' "$lock") &&
           .venv/bin/python -m pip install --quiet --require-hashes --no-deps -r "$lock" &&
           .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .; } >"$output" 2>&1; then
      cat "$output" >&2
      rm -f "$output"
      echo "Installing the locked packages ($lock) failed: see above." >&2
      return 1
    fi
    rm -f "$output"
    echo "$fingerprint" > "$stamp"
  fi
}
