#!/usr/bin/env bash
# Run Parity: install, migrate, seed the demo on first start, embedded Redis, a worker and the web server.
source "$(dirname "$0")/env.sh"
install_parity ""
exec .venv/bin/python -m app.supervisor "$@"  # --verbose: every log line on the console too
