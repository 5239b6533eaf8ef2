# KAM — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
KAM_HOME ?= $(CURDIR)/var
HOST ?= 127.0.0.1
PORT ?= 8000
export KAM_HOME

.PHONY: run test test-sqlite test-postgres bench load lint install install-dev system-deps messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, migrate, load the demo data into an empty database, serve.
run: install
	$(BIN)/kam migrate --no-input
	$(BIN)/kam demo --if-empty
	@echo ""
	@echo "  KAM: http://$(HOST):$(PORT)/"
	@$(BIN)/kam logins
	@echo ""
	HOST=$(HOST) PORT=$(PORT) $(BIN)/kam serve

## make test: everything the tests need, the linters, then the whole suite on SQLite and on PostgreSQL.
test: install-dev system-deps
	$(MAKE) --no-print-directory lint
	bash .ci/test-all.sh

test-sqlite: install-dev
	$(BIN)/pytest -q

test-postgres: install-dev system-deps
	bash .ci/postgres.sh $(BIN)/pytest -q

system-deps:
	@bash .ci/system-deps.sh

bench: install-dev
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python bench/bench_accounts.py
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_tiering.py
	$(BIN)/python bench/bench_compliance.py
	bash .ci/postgres.sh $(BIN)/python bench/bench_funnel.py --repeat 5
	$(BIN)/python bench/bench_bgnbd.py --customers 1000000 --repeat 5
	bash .ci/postgres.sh $(BIN)/python bench/bench_warnings.py --accounts 100000 --repeat 3
	bash .ci/postgres.sh $(BIN)/python bench/bench_scoring.py --accounts 100000 --months 36 --repeat 5
	bash .ci/postgres.sh $(BIN)/python bench/bench_churn.py --accounts 100000 --repeat 3

## make load: a key-account team's day against `kam serve` on 127.0.0.1, measured (bench/load/).
## USERS people at once for DURATION seconds on a demo of ACCOUNTS accounts, kept in LOAD_HOME
## between runs; RATE people started a second, THINK seconds between a person's actions,
## WORKERS gunicorn workers (default: kam serve's own).
USERS ?= 8
DURATION ?= 60
ACCOUNTS ?= 2000
RATE ?=
THINK ?= 1-3
WORKERS ?=
LOAD_HOME ?= $(KAM_HOME)/load

$(VENV)/.installed-load: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[load]"
	touch $(VENV)/.installed $@

load: $(VENV)/.installed-load
	$(BIN)/python bench/load/run.py --home $(LOAD_HOME) --accounts $(ACCOUNTS) --users $(USERS) \
	  --duration $(DURATION) --think $(THINK) $(if $(RATE),--rate $(RATE)) $(if $(WORKERS),--workers $(WORKERS))

# The typed layers: every feature's services, selectors, policies and filters, the API, and
# the core plumbing they stand on. mypy reads the rest for its types without checking it.
TYPED = $(shell find src/kam \( -name services.py -o -name selectors.py -o -name policies.py \
          -o -name filters.py \) -not -path '*/migrations/*' | sort) src/kam/api \
        $(addprefix src/kam/core/,conf.py web.py errors.py sql.py arrays.py bulk.py)

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	KAM_HOME=$(KAM_HOME)/lint $(BIN)/mypy $(TYPED)

messages: install-dev
	cd src/kam && ../../$(BIN)/django-admin makemessages -l zh_Hans --settings kam.settings
	cd src/kam && ../../$(BIN)/django-admin compilemessages --settings kam.settings

clean:
	rm -rf $(VENV) build dist src/*.egg-info
