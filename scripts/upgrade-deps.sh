#!/usr/bin/env bash
# Refresh the lock files to the newest releases pyproject.toml allows, show what moved, then install
# them and run the whole test suite (`make test`). Review and commit the lock files when it passes.
source "$(dirname "$0")/env.sh"
install_parity "[dev]"  # uv, the lock tool, comes from the current dev lock
bash scripts/lock.sh --upgrade
echo "Versions changed:"
git diff --unified=0 -- requirements.txt requirements-dev.txt | grep -E '^[-+][a-z0-9]' || echo "  none"
exec bash scripts/test.sh "$@"
