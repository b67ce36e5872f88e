#!/usr/bin/env bash
# Run every benchmark under bench/ and print its numbers.
source "$(dirname "$0")/env.sh"
install_parity "[dev]"
for bench in bench/bench_*.py; do
  echo "== $bench"
  .venv/bin/python "$bench"
done
