# Support Desk. `make run` and `make test` are all a newcomer needs (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test bench lint format services-up services-down clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) scripts/run.py --port $(PORT)

test: $(STAMP)
	$(PY) scripts/services.py up
	$(PY) -m ruff check .
	set -a; . var/run/services.env; set +a; $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) scripts/services.py up
	set -a; . var/run/services.env; set +a; $(PY) -m tests.bench.run

lint: $(STAMP)
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

services-up: $(STAMP)
	$(PY) scripts/services.py up

services-down: $(STAMP)
	$(PY) scripts/services.py down

clean-venv:
	rm -rf $(VENV)
