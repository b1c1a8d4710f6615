# Headless Chromium for the dashboard's browser tests (issue 8): Debian's `chromium` package, driven
# by Playwright for Python (pinned in requirements.lock, installed by `make setup`). Playwright's
# own browser download (`playwright install`) is never used: the tests launch /usr/bin/chromium.
# Included from the Makefile; also runs alone: `make -f mk/browser.mk browser` (after `make setup`).

VENV ?= .venv
BIN ?= $(VENV)/bin
# apt-get needs root: as another user, go through sudo.
BROWSER_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: browser

# Declared without a recipe so the fragment also parses on its own (see mk/slither.mk).
setup:

browser: setup
	@command -v chromium >/dev/null 2>&1 || ( $(BROWSER_SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(BROWSER_SUDO) apt-get install -y -qq chromium )
	@$(BIN)/python -c "import playwright" 2>/dev/null || \
		$(BIN)/uv pip install --python $(BIN)/python --quiet "$$(grep -i '^playwright==' requirements.lock)"
	@echo "browser: $$(chromium --version 2>/dev/null || echo 'chromium missing')"
