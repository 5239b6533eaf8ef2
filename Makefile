# KAM — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
KAM_HOME ?= $(CURDIR)/var
HOST ?= 127.0.0.1
PORT ?= 8000
export KAM_HOME

.PHONY: run test test-sqlite test-postgres bench lint install install-dev system-deps messages clean

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
