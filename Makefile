# Support Desk. `make run` and `make test` are all a newcomer needs (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Two install stamps: `make run` needs only the runtime dependencies (a fast first start);
# tests and linting add the `dev` extra (pytest, Playwright, schemathesis, ruff); benchmarks
# also the `peer` extra (the help desk they are measured against).
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
PORT ?= 8000
# Starts the embedded PostgreSQL/Redis a command needs (unless DATABASE_URL/REDIS_URL are
# set), runs it, then stops only the services it started itself.
WITH_SERVICES := $(PY) scripts/services.py exec --

.PHONY: run test bench lint format services-up services-down clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PIP) -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PIP) -e '.[dev]'
	@touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(PY) scripts/run.py --port $(PORT)

test: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(WITH_SERVICES) $(PY) -m pytest $(PYTEST_ARGS)

# The benchmarks also install the peer help desk they measure ours against (tests/bench).
$(BENCH_STAMP): pyproject.toml | $(PY)
	$(PIP) -e '.[dev,peer]'
	@touch $@ $(DEV_STAMP) $(RUN_STAMP)

bench: $(BENCH_STAMP)
	$(WITH_SERVICES) $(PY) -m tests.bench.run

lint: $(DEV_STAMP)
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format: $(DEV_STAMP)
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

services-up: $(RUN_STAMP)
	$(PY) scripts/services.py up

services-down: $(RUN_STAMP)
	$(PY) scripts/services.py down

clean-venv:
	rm -rf $(VENV)
