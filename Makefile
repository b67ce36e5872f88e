# The two commands: `make run` runs Parity; `make test` runs the whole test suite.
# `make upgrade-deps` moves the lock files to the newest versions pyproject.toml allows and runs the tests.
.PHONY: run test bench upgrade-deps

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

bench:
	@bash scripts/bench.sh

upgrade-deps:
	@bash scripts/upgrade-deps.sh
