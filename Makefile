# `make demo` and `make test` each do all the set-up on a fresh machine: they create .venv in
# the repository, install the package (and the test tools), then run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
DEMO_OUT ?= runs/dates
DEMO_EPOCHS ?= 15

.PHONY: demo test lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[tensorflow]'
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e '.[tensorflow,test]'
	touch $@

# Trains the tiny preset on the built-in dates corpus (a few minutes on 2 CPU cores), prints
# the validation masked accuracy, evaluates on the test split and translates a few dates.
# --overwrite replaces the previous demo run only.
DEMO_DATES := "jeudi 4 mars 2021" "Thursday, March 4, 2021" "2021년 3월 4일 목요일" \
	"Sonntag, 1. Januar 1905" "3/4/2021" "04.03.2021"

demo: $(VENV)/.installed
	$(BIN)/keras-transformer train --corpus dates --preset tiny --epochs $(DEMO_EPOCHS) \
		--warmup-steps 1000 --out $(DEMO_OUT) --overwrite
	$(BIN)/keras-transformer evaluate $(DEMO_OUT) --split test
	$(BIN)/keras-transformer translate $(DEMO_OUT) $(DEMO_DATES) \
		--plot-attention $(DEMO_OUT)/attention.png

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The tests run in parallel, one process per core (at most 4); a file with module fixtures is
# one group (one process: its fixtures are made once). `PYTEST_WORKERS=0`: all in this process.
PYTEST_WORKERS ?= auto
test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadgroup

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache runs
