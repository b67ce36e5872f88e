# The two commands: `make run` runs Parity; `make test` runs the whole test suite.
.PHONY: run test bench

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

bench:
	@bash scripts/bench.sh
