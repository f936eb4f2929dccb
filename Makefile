# sentibot developer commands. Everything runs from .venv/, which `make install` builds.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-fast demo lint bench clean compose-check

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Two processes, each test file kept in one (its stack is started once): the real-clock fault
# tests mostly wait, so they run beside the rest. `make test PYTEST_ARGS=…` replaces this.
PYTEST_ARGS ?= -n 2 --dist loadfile

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fast lane: unit, property and single-process tests; no stacks, no training, no
# real-clock waits (tests/system starts processes). Everything still runs in `make test` (CI).
test-fast: install
	$(BIN)/python -m pytest -n 2 -m "not slow and not training" --ignore=tests/system -q

demo: install
	$(BIN)/sentibot demo

PACKAGES := cli sentibot bot collectors scoring tasks migrations devtools tests bench

lint: install
	$(BIN)/ruff check $(PACKAGES)
	$(BIN)/ruff format --check $(PACKAGES)
	$(BIN)/mypy

# docker-compose.yml checked by a real Compose (Debian's docker-compose; no engine needed).
compose-check:
	command -v docker-compose >/dev/null || { command -v apt-get >/dev/null && \
		{ [ "$$(id -u)" = 0 ] && apt-get install -y -q docker-compose || \
		  sudo apt-get install -y -q docker-compose; }; }
	POSTGRES_PASSWORD=check FLOWER_BASIC_AUTH=check:check \
		docker-compose -f docker-compose.yml config -q

DATA ?= ../shared/data/tweeteval-sentiment

bench: install
	$(BIN)/python bench/goals.py $(DATA)
	$(BIN)/python bench/ack_latency.py
	$(BIN)/python bench/scoring_accuracy.py $(DATA)
	$(BIN)/python bench/scoring_speed.py $(DATA)
	$(BIN)/python bench/transformer_variants.py $(DATA)
	$(BIN)/python bench/hostile_costs.py
	$(BIN)/python bench/fair_schedule.py
	$(BIN)/python bench/themes_speed.py $(DATA)
	$(BIN)/python bench/source_latency.py
	$(BIN)/python bench/ingest.py --database sqlite
	$(BIN)/python bench/load.py --commands 200 --clients 20

clean:
	rm -rf $(VENV) .sentibot .pytest_cache
