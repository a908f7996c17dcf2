# Dandelion: the two commands of the README, and their helpers.
#   make demo   set up .venv, migrate SQLite under var/, load the demo organisation, fill the inbox, serve the UI
#   make test   the whole suite: SQLite, then PostgreSQL (required under CI=true)

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/dandelion
PYTEST_ARGS ?=

.PHONY: demo test test-sqlite test-postgres venv migrate seed serve worker stream lint typecheck bench clean messages

venv: $(STAMP)
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

migrate: venv
	$(BIN)/dandelion migrate --noinput

seed: migrate
	$(BIN)/dandelion seed-demo

demo: seed
	@bash scripts/demo.sh "$(HOST)" "$(PORT)"

serve: venv
	$(BIN)/dandelion serve --host $(HOST) --port $(PORT)

worker: venv
	$(BIN)/dandelion worker

stream: venv
	$(BIN)/dandelion stream

test: venv
	@bash scripts/test.sh $(PYTEST_ARGS)

test-sqlite: venv
	$(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres: venv
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q $(PYTEST_ARGS)

# The translated apps' catalogues (docs/development/translating.md): `make messages` or `make messages APPS="core orgs"`
messages: venv
	$(BIN)/dandelion messages $(APPS)

lint: venv
	BIN=$(BIN) bash scripts/lint.sh

typecheck: venv
	BIN=$(BIN) bash scripts/lint.sh typecheck

clean:
	rm -rf $(VENV) var .pytest_cache
