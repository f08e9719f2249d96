# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
export FLASK_APP := inclusion
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test browser lint format check bench clean translations vendor

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(STAMP_TEST): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-test: $(STAMP_TEST)

## make run: install, migrate the embedded SQLite database, load demo data, serve on :5000
run: install
	$(BIN)/flask db upgrade heads
	$(BIN)/flask inclusion demo
	@echo ""
	@echo "inclusion is running on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	@echo ""
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## Debian's Chromium for the browser tests (installed when missing and running as root)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and this is not root: browser tests will be skipped"; fi; \
	fi

## make test: install test extras and chromium, then run the whole suite
test: install-test browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make vendor: re-fetch GOV.UK Frontend, accessible-autocomplete and axe-core from the npm registry (committed)
vendor:
	sh scripts/vendor.sh

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install
	$(BIN)/flask inclusion check

bench: install-test
	@set -e; for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) instance .pytest_cache build *.egg-info

## make translations: extract the marked strings, update every catalogue, compile the .mo files
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext --no-wrap --sort-by-file -o inclusion/translations/messages.pot .
	$(BIN)/pybabel update -i inclusion/translations/messages.pot -d inclusion/translations --no-wrap
	$(BIN)/pybabel compile -d inclusion/translations --statistics
