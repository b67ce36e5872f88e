#!/usr/bin/env bash
# Write the lock files from pyproject.toml: requirements.txt (the app) and requirements-dev.txt (the app
# and its dev extras), exact versions with the sha256 of every PyPI file, for any platform and every
# Python Parity supports. Versions already in a lock are kept unless `--upgrade` (or
# `--upgrade-package NAME`) is given; further arguments go to `uv pip compile`.
# Usage: bash scripts/lock.sh [--upgrade] (`make upgrade-deps` runs it with --upgrade).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
UV=${UV:-.venv/bin/uv}
PYTHON=${PYTHON:-.venv/bin/python}

# The build backend and pip are locked too, so that installing Parity itself fetches nothing unlocked.
install_tools=$("$PYTHON" - <<'EOF'
import tomllib
with open("pyproject.toml", "rb") as file:
    print("\n".join(tomllib.load(file)["build-system"]["requires"] + ["pip"]))
EOF
)

compile() {  # $1: output file; the rest: extra arguments
  local output=$1
  shift
  # --no-config and --index-url: PyPI alone, whatever this machine's pip or uv settings add.
  echo "$install_tools" | "$UV" pip compile --quiet --no-config --index-url https://pypi.org/simple \
    --universal --generate-hashes --custom-compile-command "make upgrade-deps" \
    pyproject.toml - --output-file "$output" "$@"
}

compile requirements.txt "$@"
# The dev lock is held to the app's versions, so `make run` and `make test` run the same code.
compile requirements-dev.txt --extra dev --constraint requirements.txt "$@"
