# The two commands of the README: `make run` and `make test`. Everything else serves them.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint web-build web-test contracts bench clean

$(STAMP): pyproject.toml constraints.txt
	@scripts/system-deps.sh
	@test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip==25.3
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

## run: the whole platform on this machine (PostgreSQL, Kafka, every service). Ctrl-C stops it.
run: $(STAMP) web-build
	@PYTHON=$(BIN)/python scripts/web-apps.sh urls
	$(BIN)/paysaga run

## test: lint, the service-boundary check, the browser apps' checks and unit tests, the OpenAPI
## documents' check, then every test against real Kafka and PostgreSQL (browser tests included).
test: $(STAMP) lint web-test
	$(BIN)/paysaga openapi --check
	$(BIN)/pytest

# The browser apps in web/*/ (scripts/web-apps.sh): built when stale; checked, tested and built.
web-build:
	@scripts/web-apps.sh build

web-test:
	@scripts/web-apps.sh test

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy src tests
	$(BIN)/lint-imports
	$(BIN)/paysaga contracts --check

## bench: drive payments through a running `make run` platform and print latency and throughput.
bench: $(STAMP)
	$(BIN)/python -m paysaga.devstack.bench $(BENCH_ARGS)

contracts: $(STAMP)
	$(BIN)/paysaga contracts

clean:
	@if [ -x $(BIN)/paysaga ]; then $(BIN)/paysaga clean; else rm -rf .local; fi
