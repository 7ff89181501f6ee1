# Faultline: `make run` for the demo on embedded defaults, `make test` for the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DJANGO_SETTINGS_MODULE := config.settings

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/faultline
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# Two workers (the CI machine has 2 cores); each gets its own PostgreSQL test database,
# Redis database and media folder (tests/worker_env.py). PYTEST_ARGS= runs serially.
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: run test lint bench install install-dev chromium check-services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.lock
	@touch $@

$(VENV)/.installed-dev: requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	@bash scripts/run.sh

check-services:
	@DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python scripts/check_services.py

chromium:
	@bash scripts/ensure_chromium.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: install-dev chromium check-services lint
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python manage.py makemigrations --check --dry-run
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-dev check-services
	@for script in bench/bench_*.py; do \
		echo "== $$script"; \
		DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python $$script || exit 1; \
	done

clean:
	rm -rf .run
