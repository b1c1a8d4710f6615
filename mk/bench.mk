# Benchmarks (issue 7); docs/benchmarks.md says what each figure means and which targets it misses.
# Included from the Makefile; also runs alone: `make -f mk/bench.mk bench` (after `make setup`).
#
# One run starts anvils of its own (node_modules/.bin/anvil, no --steps-tracing), interval-mined at
# 0.1 s blocks with a 1G block gas limit, each phase on a fresh chain: the raw and pay-only ceilings,
# the whole path under a burst (3 repetitions), latency at 10/100/500 payments/s, an automine
# service time, gas and scoring speed (bench/run.py). It writes bench/results.json and
# docs/benchmarks.md. A benchmark, not a test: a missed target is reported, not failed. About 10
# minutes on 2 idle cores. More modes: make bench BENCH_ARGS="--block-times 0.1,0.25,1".

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
	$(BIN)/python -m bench $(BENCH_ARGS)
