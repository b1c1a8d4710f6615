# Static analysis gate (issue 6, section 1); docs/security.md says what it checks and why.
# Included from the Makefile; also runs alone: `make -f mk/slither.mk slither` (after `make setup`).
#
# solc-js compiles every contract into a Hardhat-format build-info file (tools/build_info.py),
# and Slither analyses that (slither.config.json: hardhat platform, no compile, no npx), run
# through tools/slither_run.py, which works around a Slither parser bug (see that file).
# Fails on any High or Medium finding (Slither's own --fail-medium); prints Low/Informational
# as a summary; the full report is $(SLITHER_REPORT).

VENV ?= .venv
BIN ?= $(VENV)/bin
SLITHER_OUT ?= build/slither
SLITHER_REPORT ?= $(SLITHER_OUT)/report.json
SLITHER_LOG ?= $(SLITHER_OUT)/slither.log
SLITHER_STAMP := $(VENV)/.slither-installed
SLITHER_ARGS ?=

.PHONY: slither slither-build-info

# The Makefile's setup creates .venv and node_modules. Declared here without a recipe so the
# fragment also parses on its own; included, this adds nothing to the Makefile's rule.
setup:

# With requirements.lock as constraints, so that Slither's own dependencies cannot move a pin.
$(SLITHER_STAMP): requirements-slither.txt requirements.lock | setup
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements-slither.txt -c requirements.lock
	@touch $@

slither-build-info: setup
	$(BIN)/python tools/build_info.py --out $(SLITHER_OUT)

slither: slither-build-info $(SLITHER_STAMP)
	@rm -f $(SLITHER_REPORT) $(SLITHER_LOG)
	@echo "slither: analysing $(SLITHER_OUT) (log: $(SLITHER_LOG))"
	@status=0; \
	$(BIN)/python tools/slither_run.py $(SLITHER_OUT) --fail-medium --json $(SLITHER_REPORT) $(SLITHER_ARGS) \
		> $(SLITHER_LOG) 2>&1 || status=$$?; \
	$(BIN)/python tools/slither_summary.py $(SLITHER_REPORT) --log $(SLITHER_LOG) || status=1; \
	exit $$status
