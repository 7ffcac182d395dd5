# Declass: `make run` serves the API with demo data; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# PostgreSQL used by `make test`: DATABASE_URL when set, else the local server if it answers.
PG_URL := $(or $(DATABASE_URL),postgresql://postgres@127.0.0.1:5432/postgres)

.PHONY: run test lint typecheck test-sqlite test-postgresql bench clean openapi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/declass db upgrade
	$(BIN)/declass demo bootstrap
	$(BIN)/declass serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check service tests bench alembic/env.py
	$(BIN)/ruff format --check service tests bench alembic/env.py
	$(BIN)/hadolint Dockerfile

typecheck: $(STAMP)
	$(BIN)/mypy

test-sqlite: $(STAMP)
	DECLASS_TEST_DATABASE=sqlite $(BIN)/pytest -n 2 -q $(PYTEST_ARGS)

test-postgresql: $(STAMP)
	@if $(BIN)/python scripts/pg_available.py "$(PG_URL)"; then \
		echo "== PostgreSQL at $$($(BIN)/python scripts/pg_available.py --show "$(PG_URL)")"; \
		DECLASS_TEST_DATABASE=postgresql DECLASS_TEST_PG_ADMIN_URL="$(PG_URL)" \
			$(BIN)/pytest -n 2 -q $(PYTEST_ARGS); \
	else \
		echo "== PostgreSQL not reachable at the configured URL: its run is skipped"; \
	fi

test: lint typecheck test-sqlite test-postgresql

openapi: $(STAMP)
	$(BIN)/python scripts/write_openapi.py

bench: $(STAMP)
	$(BIN)/python bench/parse_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
