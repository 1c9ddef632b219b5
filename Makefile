# Two commands matter: `make demo` and `make test`. Each sets up everything it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-workspace
DEMO_POSTS ?= 300000
DEMO_SERVE ?= 1

.PHONY: demo test lint typecheck pytest setup system-deps build-deps bench clean

$(STAMP): pyproject.toml setup.py src/tidings/ingest/_twitter_v1_scan.cpp
	@sh scripts/build-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[spark,test]'
	touch $(STAMP)

setup: $(STAMP)

# A C++ compiler and libsimdjson-dev for the compiled v1.1 scanner (optional; see setup.py).
build-deps:
	@sh scripts/build-deps.sh

# Debian packages the tests use: chromium (report/dashboard pages) and a Java runtime (Spark).
system-deps:
	@sh scripts/system-deps.sh

demo: setup
	$(BIN)/tidings demo --workspace $(DEMO_DIR) --posts $(DEMO_POSTS)

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy

pytest: setup system-deps
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: setup
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
