# Domestic abuse scrutiny tracker — the commands a new developer needs.
#   make run    set up and serve the app on http://127.0.0.1:5000 with demo data (SQLite), and its jobs worker
#   make test   set up and run the whole test suite (SQLite; browser tests need Chromium)
#   make test-postgres   the same suite against PostgreSQL on 127.0.0.1:5432
#   make lint   ruff (lint and format check), mypy and the import contracts
#   make security   bandit, pip-audit over the pins, and the property tests at length

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := TRACKER_ENV=development $(BIN)/flask --app tracker
PG_TEST_DB ?= tracker_test
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/$(PG_TEST_DB)
AXE := tests/e2e/node_modules/axe-core/axe.min.js

.PHONY: run test test-postgres test-e2e lint format security install vendor-govuk clean

$(BIN)/.installed: requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

install: $(BIN)/.installed

# axe-core for the browser tests' accessibility checks; skipped (tests then skip) without npm.
$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	@if command -v npm >/dev/null; then npm ci --silent --prefix tests/e2e; else echo "npm not found: browser accessibility checks will be skipped"; fi

# The background-jobs worker (large PDFs, tracker/jobs.py) runs beside the server and stops with it.
run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	TRACKER_ENV=development $(BIN)/huey_consumer tracker.jobs.huey --workers 2 --logfile instance/jobs.log & \
	  worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host 127.0.0.1 --port 5000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Tests run in parallel (pytest-xdist, a worker per core), each worker with databases of its own.
# PYTEST_ARGS adds options: PYTEST_ARGS='-m "not e2e"' leaves out the browser tests, "-n 0" runs serially.
test: install $(AXE)
	$(BIN)/pytest -n auto --cov=tracker --cov-report=term $(PYTEST_ARGS)

# The xdist workers use $(PG_TEST_DB)_gw0, _gw1, ...: the tests create and drop those themselves.
test-postgres: install $(AXE)
	psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $(PG_TEST_DB)" -c "CREATE DATABASE $(PG_TEST_DB)"
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n auto $(PYTEST_ARGS)

# bandit (no medium or high finding), pip-audit over the pins (skipped, saying so, where the index
# cannot be reached), and the property tests with more examples than the everyday run.
PROPERTY_EXAMPLES ?= 25
security: install
	$(BIN)/bandit --recursive tracker config.py --severity-level medium --quiet
	$(BIN)/python .ci/pip-audit-pinned
	PROPERTY_EXAMPLES=$(PROPERTY_EXAMPLES) $(BIN)/pytest -n auto tests/test_properties.py $(PYTEST_ARGS)

test-e2e: install $(AXE)
	$(BIN)/pytest -n auto tests/e2e $(PYTEST_ARGS)

# Rebuild the vendored GOV.UK Frontend (see tracker/static/govuk/README.md).
GOVUK_FRONTEND_VERSION ?= 6.3.0
vendor-govuk:
	rm -rf /tmp/govuk-vendor && mkdir -p /tmp/govuk-vendor
	cp tracker/static/govuk/arial.scss /tmp/govuk-vendor/
	cd /tmp/govuk-vendor && npm init -y >/dev/null && npm install --silent govuk-frontend@$(GOVUK_FRONTEND_VERSION) sass@1
	cd /tmp/govuk-vendor && npx sass --pkg-importer=node --style=compressed --no-source-map arial.scss govuk-frontend.min.css
	cp /tmp/govuk-vendor/govuk-frontend.min.css tracker/static/govuk/
	cp /tmp/govuk-vendor/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js tracker/static/govuk/
	echo $(GOVUK_FRONTEND_VERSION) > tracker/static/govuk/VERSION

clean:
	rm -rf $(VENV) instance .pytest_cache tests/e2e/node_modules tests/e2e/artefacts
