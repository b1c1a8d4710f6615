# Verdict: every target installs what it needs first, and is safe to run again.
SHELL := /bin/bash
PY_VERSION ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOLC_VERSION := 0.8.28
ROOT := $(CURDIR)
APE := $(BIN)/ape
# uv installs the pinned tree: on a fresh machine it downloads in parallel and installs in seconds
# (137 packages into a fresh venv here: 49 s with uv at load 10, 5.5 min with pip at load 9). It is
# itself pinned, installed into the venv by the venv's pip.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
UV_PIP := $(UV) pip install --python $(BIN)/python
# The slowest tests of every run are listed at its end, so that a test that grows shows in CI's log.
PYTEST_ARGS ?= --durations=25
# The demo and the tests always start a chain of their own (on a free port), even with
# APE_FOUNDRY_HOST exported for a long-lived chain: ape-foundry would connect to that one instead.
OWN_CHAIN := env -u APE_FOUNDRY_HOST
# OpenZeppelin's Solidity sources alone: the ape dependency of ape-config.yaml (see the rule below).
OZ_SOURCES := node_modules/.verdict/openzeppelin-contracts

.PHONY: help setup test test-soak demo demo-dashboard bench slither lint clean

help:
	@echo "make demo   - start anvil, deploy, train a model, run the oracle daemon, send payments"
	@echo "make demo-dashboard [DASHBOARD_PORT=8050] - the demo, then its chain and dashboard stay up"
	@echo "make test   - the whole test suite (contracts, oracle, end to end, faults), heavy runs at default size"
	@echo "make test-soak - the same at full size: 1,000 invariant sequences, 5,000-payment burst, soak tests"
	@echo "make bench  - throughput, latency, gas and scoring benchmarks -> docs/benchmarks.md"
	@echo "make slither - static analysis of the contracts"
	@echo "make lint   - ruff over the Python code (part of make test)"

setup: $(VENV)/.installed node_modules/.installed $(OZ_SOURCES)/.installed .solcx/solc-v$(SOLC_VERSION)

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PY_VERSION) -m venv $(VENV)
	@$(UV) --version 2>/dev/null | grep -qF "uv $(UV_VERSION)" || \
		$(BIN)/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@# uv's per-package lines go to .venv/pip-install.log; its summary lines (resolved, prepared,
	@# installed, with times) are the progress shown.
	@echo "uv: installing $$(grep -c '==' requirements.lock) pinned packages into $(VENV) (under a minute)"
	@set -o pipefail; $(UV_PIP) -r requirements.lock 2>&1 | tee $(VENV)/pip-install.log \
		| { grep -E '^(Resolved|Prepared|Installed|Uninstalled|Audited|Checked) ' || true; } | sed 's/^/uv: /'
	@echo "uv: full output in $(VENV)/pip-install.log"
	$(UV_PIP) --quiet --no-deps -e .
	@# ape, pytest and the daemon find the npm toolchain without an activated venv: the
	@# solc-js bridge (as py-solc-x's solc) and node_modules/.bin (anvil) come from this .pth.
	@site=$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') && \
	echo 'import os; os.environ.setdefault("SOLCX_BINARY_PATH", "$(ROOT)/.solcx"); os.environ["PATH"] = "$(ROOT)/node_modules/.bin" + os.pathsep + os.environ.get("PATH", "")' > $$site/verdict_toolchain.pth
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# ape-solidity copies each dependency whole into contracts/.cache, and ape lists a project's sources
# from the first 500 files under contracts/: the npm package's 258 prebuilt JSON artifacts (plus its
# 248 sources) pushed the project's own contracts out of that list. The dependency is therefore the
# package's .sol files alone; an old whole-package copy in contracts/.cache goes with it.
$(OZ_SOURCES)/.installed: node_modules/.installed
	@rm -rf $(OZ_SOURCES) contracts/.cache
	@mkdir -p $(OZ_SOURCES)
	@cd node_modules/@openzeppelin/contracts && find . -name '*.sol' -exec cp --parents -t $(ROOT)/$(OZ_SOURCES) {} +
	@touch $@

.solcx/solc-v$(SOLC_VERSION): tools/solc-bridge.js
	@mkdir -p .solcx
	ln -sf ../tools/solc-bridge.js $@

compile: setup
	$(APE) compile

# The store tests also run against a throwaway PostgreSQL server when the machine has one.
# Test sizes follow VERDICT_HYPOTHESIS_PROFILE (tests/profiles.py): `make test` runs the `default`
# profile (or the one exported), `make test-soak` the `soak` one (SOAK_PROFILE=deep or long for
# longer), which also runs the tests marked @pytest.mark.soak. PYTEST_ARGS: pytest options for both
# runs below (not paths).
# Beside the main run, on the second core it leaves mostly idle: the Slither gate (`make slither`),
# then tests/docs (its own anvils and scratch copies of the project, nothing shared with the main run;
# the project is compiled first so that the two runs never compile into .build at once). Their output
# follows the main run's; any of the three failing fails `make test`.
SOAK_PROFILE ?= soak
BESIDE_LOG := build/beside-tests.log
define run_tests
	@mkdir -p build; rm -f $(BESIDE_LOG).failed; \
	$(APE) compile > build/compile.log 2>&1 || { cat build/compile.log; exit 1; }; \
	echo "beside the tests: make slither, then tests/docs (log: $(BESIDE_LOG))"; \
	{ $(MAKE) --no-print-directory slither || echo "make slither failed" >> $(BESIDE_LOG).failed; \
	  $(1) $(OWN_CHAIN) $(APE) test tests/docs $(PYTEST_ARGS) || echo "tests/docs failed" >> $(BESIDE_LOG).failed; \
	} > $(BESIDE_LOG) 2>&1 & beside=$$!; \
	pgdir=$$(mktemp -d /tmp/verdict-pg.XXXXXX); \
	url=$$(tools/pg-test-server start $$pgdir) || { url=; echo "no PostgreSQL here: the store tests run on SQLite only"; }; \
	$(1) VERDICT_TEST_PG_URL=$$url $(OWN_CHAIN) $(APE) test tests --ignore=tests/docs $(PYTEST_ARGS); status=$$?; \
	tools/pg-test-server stop $$pgdir; rm -rf $$pgdir; \
	wait $$beside; echo "--- beside the tests: make slither, then tests/docs ---"; cat $(BESIDE_LOG); \
	if [ -s $(BESIDE_LOG).failed ]; then cat $(BESIDE_LOG).failed; status=1; fi; \
	exit $$status
endef

test: setup lint browser
	$(call run_tests,)

test-soak: setup lint browser
	$(call run_tests,VERDICT_HYPOTHESIS_PROFILE=$(SOAK_PROFILE))


demo: setup
	$(OWN_CHAIN) $(APE) run demo --network ethereum:local:foundry

# The demo, then its chain stays up with the dashboard on http://127.0.0.1:$(DASHBOARD_PORT)/ until
# Ctrl-C; another port: make demo-dashboard DASHBOARD_PORT=8060 (a busy one fails before the demo).
DASHBOARD_PORT ?= 8050
demo-dashboard: setup
	@$(BIN)/python -m verdict_demo.dashboard "$(DASHBOARD_PORT)"
	$(OWN_CHAIN) $(APE) run demo --network ethereum:local:foundry --dashboard --port $(DASHBOARD_PORT)

lint: setup
	$(BIN)/ruff check oracle verdict_deploy verdict_demo bench tests scripts tools ape_console_extras.py

include mk/slither.mk
include mk/browser.mk
include mk/bench.mk

clean:
	rm -rf .build contracts/.cache build var demo-summary.json
