# `make demo` and `make test` each do all the set-up on a fresh machine: they create .venv in
# the repository, install the package (and the test tools), then run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
DEMO_OUT ?= runs/dates

.PHONY: demo test lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

# Trains the tiny preset on the built-in dates corpus (about 4 minutes on 2 CPU cores) and
# prints the validation masked accuracy. --overwrite replaces the previous demo run only.
demo: $(VENV)/.installed
	$(BIN)/keras-transformer train --corpus dates --preset tiny --epochs 10 \
		--warmup-steps 1000 --out $(DEMO_OUT) --overwrite

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache runs
