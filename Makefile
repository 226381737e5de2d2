# The README's commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The PostgreSQL that `make test-pg` uses unless DATABASE_URL names another one;
# the suite creates and drops its own test_* database there.
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: install run test test-pg lint format

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(BIN)/.installed

run: install
	DEBUG=true $(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_seed
	$(if $(DEMO),$(BIN)/python manage.py load_demo)
	$(BIN)/python manage.py ensure_login
	@echo "Serving http://$(HOST):$(PORT)/ — log in with the account above (Ctrl-C stops)."
	DEBUG=true $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	env -u DATABASE_URL TRACKER_EXPECT_DB=sqlite $(BIN)/pytest $(ARGS)

test-pg: install
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} TRACKER_EXPECT_DB=postgresql $(BIN)/pytest $(ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
