# The commands people type. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install.stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install demo serve test lint typecheck check-migrations pytest bench bench-quick bench-concurrency chromium keys clean messages prod-smoke

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install the pinned dependencies (fast when nothing changed)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

keys: install ## Generate local demo keys into var/keys.env (kept if present; ignored by git)
	$(BIN)/python manage.py generate_local_keys

demo: install keys ## Set up SQLite + demo data and serve with DEBUG off on http://127.0.0.1:8000 (HOST=, PORT= change it) with the periodic jobs (Ctrl-C stops all)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py serve_demo --host $(HOST) --port $(PORT)

lint: install ## Ruff lint and format check, and the import contracts of pyproject.toml (DESIGN.md layering)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: install ## mypy with django-stubs
	$(BIN)/mypy .

check-migrations: install ## Fail when a model change has no migration
	mkdir -p var  # the default SQLite path's folder, so the history check can open it on a fresh clone
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

chromium: ## Install Debian's Chromium for the browser tests when it is missing (needs root)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

pytest: install chromium ## The pytest suite (browser tests included), in parallel
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test: lint typecheck check-migrations pytest ## Everything CI runs on one configuration

# PostgreSQL and Redis on loopback (as .ci/run's second pass); the test makes and drops a database of its own.
SMOKE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
SMOKE_REDIS_URL ?= redis://127.0.0.1:6379/9

prod-smoke: install ## Run the product as in production (prod settings, throwaway secrets, 2 daphne processes) on loopback against PostgreSQL + Redis, check it, stop it
	DATABASE_URL=$(SMOKE_DATABASE_URL) REDIS_URL=$(SMOKE_REDIS_URL) REQUIRE_SERVICES=1 \
	  $(BIN)/pytest -p no:randomly -n 0 tests/test_prod_smoke.py

# PostgreSQL for the full bench (seeded databases are cached as casework_bench_* templates between runs).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/casework_bench

bench: install keys ## Benchmarks at 1 000 and 100 000 cases on PostgreSQL; writes bench/results.json and bench/results.md
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} DJANGO_SETTINGS_MODULE=bench.settings $(BIN)/python -m bench.run

bench-concurrency: install keys ## The audit head's hold and cases/s with 1 and 8 clients alone (PostgreSQL; docs/adr/0025)
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} DJANGO_SETTINGS_MODULE=bench.settings $(BIN)/python -m bench.concurrency

bench-quick: install ## The same keys at 50 and 200 cases (SQLite, or DATABASE_URL), few iterations: a smoke test, never timed
	DJANGO_SETTINGS_MODULE=bench.settings BENCH_OUT=$${BENCH_OUT:-var/bench-quick.json} $(BIN)/python -m bench.run --quick

messages: install ## Refresh and compile the Czech catalogue
	$(BIN)/python manage.py makemessages -l cs --ignore=.venv --ignore=var --ignore=tests
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean: ## Remove the demo database, keys and logs (var/)
	rm -rf var
