#!/usr/bin/env bash
# Run every test: unit, web (SQLite and a throwaway PostgreSQL), worker processes, and chromium.
source "$(dirname "$0")/env.sh"
install_parity "[dev]"
exec .venv/bin/python -m pytest "$@"
