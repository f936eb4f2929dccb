# sentibot developer commands. Everything runs from .venv/, which `make install` builds.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test demo lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: install
	$(BIN)/sentibot demo

lint: install
	$(BIN)/ruff check sentibot tests bench
	$(BIN)/ruff format --check sentibot tests bench

DATA ?= ../shared/data/tweeteval-sentiment

bench: install
	$(BIN)/python bench/ack_latency.py
	$(BIN)/python bench/scoring_accuracy.py $(DATA)
	$(BIN)/python bench/scoring_speed.py $(DATA)

clean:
	rm -rf $(VENV) .sentibot .pytest_cache
