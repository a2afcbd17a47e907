# Two commands for a newcomer: `make demo` and `make test`. Both set up .venv first.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3
DEMO_CASES ?= 20000
# Chart library for the pages: from the npm registry at set-up (package-lock.json pins it),
# served from /static/vendor; never a CDN.
NPM_STAMP := node_modules/.installed-stamp
ECHARTS   := src/bankvoc/web/static/vendor/echarts.min.js

.PHONY: setup demo test lint typecheck unit fuzz bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NPM_STAMP)

$(ECHARTS): $(NPM_STAMP)
	mkdir -p $(dir $(ECHARTS))
	cp node_modules/echarts/dist/echarts.min.js $(ECHARTS)

setup: $(STAMP) $(ECHARTS)

demo: setup
	BANKVOC_DEMO=1 $(BIN)/bankvoc db upgrade
	BANKVOC_DEMO=1 $(BIN)/bankvoc demo load --cases $(DEMO_CASES)
	BANKVOC_DEMO=1 $(BIN)/bankvoc serve --demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

# The slowest tests are listed at the end: where `make test`'s time goes, run after run.
unit: setup
	$(BIN)/pytest -n 2 -q --durations=30

test: lint typecheck unit

# The API fuzzing and the property tests at twenty times `make test`'s fixed budget (still
# derandomized); BANKVOC_TEST_HYPOTHESIS=explore draws fresh examples each run instead.
FUZZ_PROFILE ?= deep
fuzz: setup
	BANKVOC_TEST_HYPOTHESIS=$(FUZZ_PROFILE) $(BIN)/pytest -n 2 -q tests/api/test_fuzz.py \
		tests/sla/test_properties.py tests/intake/test_properties.py \
		tests/cases/workflow/test_properties.py tests/core/test_tables.py

bench: setup
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache node_modules $(dir $(ECHARTS))
