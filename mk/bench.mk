# Benchmarks (issue 7); docs/benchmarks.md says what each figure means and which targets it misses.
# Included from the Makefile; also runs alone: `make -f mk/bench.mk bench` (after `make setup`).
#
# One run measures everything on a fresh anvil that ape starts: the chain's ceiling, the whole path
# under a burst, latency at a fixed load, gas, scoring speed and the daemon's memory. It writes
# bench/results.json and docs/benchmarks.md. A benchmark, not a test: a missed target is reported,
# not failed. About 5 minutes on 2 cores.

VENV ?= .venv
BIN ?= $(VENV)/bin
APE ?= $(BIN)/ape
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=

.PHONY: bench

# Declared without a recipe so the fragment also parses on its own (see mk/slither.mk).
setup:

$(BENCH_STAMP): requirements-bench.txt requirements.lock | setup
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	@touch $@

bench: setup $(BENCH_STAMP)
	$(APE) run bench --network ethereum:local:foundry $(BENCH_ARGS)
