# One command to run the service, one to test it; both build the venv they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres install hooks lint bench bench-commits bench-streams bench-streams-across clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@$(MAKE) --no-print-directory hooks

# The client (client/, its own package: httpx only) is installed beside the service: its tests,
# the README's example and `make lint` import it.
$(STAMP): pyproject.toml client/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,speed]'
	$(BIN)/pip install --quiet -e ./client
	touch $(STAMP)

install: $(STAMP) hooks  ## the venv with the test extras, and the repository's git hooks

# Only when this directory is a git checkout's top (not a tarball unpacked inside another repository).
hooks:  ## git runs .githooks/ here (commit-msg: subjects of at most 72 characters)
	@if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$$(pwd -P)" ]; then \
		git config core.hooksPath .githooks; fi

run: $(STAMP)  ## migrate the SQLite database in instance/ and serve on http://127.0.0.1:8000
	$(BIN)/notes-service db upgrade
	$(BIN)/notes-service serve

test: $(STAMP)  ## the whole suite on SQLite, client/tests too (PostgreSQL/Redis tests skip when absent)
	$(BIN)/python -m pytest -q --durations=15

test-postgres: $(STAMP)  ## the whole suite again on PostgreSQL + Redis (must be running)
	NOTES_TEST_DATABASE=postgresql NOTES_TEST_REQUIRE_SERVICES=1 \
	NOTES_TEST_REDIS_URL=redis://127.0.0.1:6379/15 $(BIN)/python -m pytest -q --durations=15

bench: | $(BIN)/python  ## the benchmark against its baselines, then the browser app (~11 min; BENCH_ARGS=--quick ~4 min)
	$(BIN)/pip install --quiet -e '.[test,speed,bench]'
	@command -v wrk >/dev/null 2>&1 || { \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq && $$sudo apt-get install -y -qq wrk; }
	$(BIN)/python -m bench $(BENCH_ARGS)

BEFORE ?= 835bda0
bench-commits: | $(BIN)/python  ## two commits side by side: BEFORE (835bda0) vs this checkout (BENCH_ARGS=--quick)
	$(BIN)/pip install --quiet -e '.[test,speed,bench]'
	@# 835bda0 renders Markdown with markdown-it-pyrs, which this checkout no longer depends on.
	$(BIN)/pip install --quiet 'markdown-it-pyrs>=0.4,<0.5'
	$(BIN)/python -m bench.commits --before $(BEFORE) $(BENCH_ARGS)

bench-streams: | $(BIN)/python  ## the live stream: 10,000 streams held, PSS, delivery, latency (BENCH_ARGS=--streams 1000)
	$(BIN)/pip install --quiet -e '.[test,speed,bench]' -e ./client
	$(BIN)/python -m bench.streams $(BENCH_ARGS)

bench-streams-across: | $(BIN)/python  ## streams on PostgreSQL + Redis, 2 instances behind nginx (BENCH_ARGS=--streams 10000)
	$(BIN)/pip install --quiet -e '.[test,speed,bench]' -e ./client
	$(BIN)/python -m bench.streams_across $(BENCH_ARGS)

lint: $(STAMP)  ## ruff (lint + format) over the code, mypy --strict over both packages
	$(BIN)/ruff check notes_service tests bench client .githooks/commit-msg
	$(BIN)/ruff format --check notes_service tests bench client .githooks/commit-msg
	$(BIN)/mypy
	$(BIN)/mypy --strict client/notes_client

clean:
	rm -rf $(VENV) .pytest_cache
