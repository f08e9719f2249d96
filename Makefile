# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# Exact versions with their hashes (pip-tools' pip-compile); `make lock` refreshes them.
LOCK_RUN  := requirements/lock.txt
LOCK_TEST := requirements/lock-test.txt
LOCK_TOOLS := $(VENV)/lock-tools
COMPILE = $(LOCK_TOOLS)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
# The project itself, editable. setuptools always explains what an editable install is (about
# ten lines); that is shown only when the install fails.
EDITABLE = out=$$($(BIN)/pip install $(QUIET) --no-deps -e . 2>&1) || { echo "$$out"; exit 1; }
export FLASK_APP := inclusion
# pip's own warnings too are left out (a machine's pip.conf may name package folders it lacks,
# one warning a package); errors still show, and `pip check` follows every install.
QUIET := --quiet --quiet
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run reset-demo test install install-test lock browser lint format check bench clean translations vendor

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(QUIET) --upgrade pip setuptools

# The locked versions only (pip checks every hash), then the project itself without deps.
$(STAMP_RUN): $(BIN)/python setup.cfg pyproject.toml $(LOCK_RUN)
	$(BIN)/pip install $(QUIET) --require-hashes -r $(LOCK_RUN)
	@echo "$(BIN)/pip install --no-deps -e ."
	@$(EDITABLE)
	@$(BIN)/pip check >/dev/null || { $(BIN)/pip check; echo "A dependency in setup.cfg is not in $(LOCK_RUN): run 'make lock'"; exit 1; }
	@touch $@

$(STAMP_TEST): $(BIN)/python setup.cfg pyproject.toml $(LOCK_TEST)
	$(BIN)/pip install $(QUIET) --require-hashes -r $(LOCK_TEST)
	@echo "$(BIN)/pip install --no-deps -e ."
	@$(EDITABLE)
	@$(BIN)/pip check >/dev/null || { $(BIN)/pip check; echo "A dependency in setup.cfg is not in $(LOCK_TEST): run 'make lock'"; exit 1; }
	@touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-test: $(STAMP_TEST)

## make lock: re-resolve setup.cfg's dependencies to the newest versions allowed and write
## requirements/lock-test.txt (run + test) and requirements/lock.txt (run), with hashes
lock: $(BIN)/python
	@test -x $(LOCK_TOOLS)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_TOOLS) && \
	  $(LOCK_TOOLS)/bin/pip install --quiet --upgrade pip setuptools pip-tools; }
	$(COMPILE) --upgrade --extra test -o $(LOCK_TEST) setup.cfg
	$(COMPILE) -c $(LOCK_TEST) -o $(LOCK_RUN) setup.cfg
	@echo "Locked. Commit requirements/*.txt; 'make install-test' installs exactly these."

## make run: install, migrate the embedded SQLite database, load demo data, serve on :5000
run: install
	INCLUSION_MIGRATE_QUIETLY=1 $(BIN)/flask db upgrade heads
	$(BIN)/flask inclusion demo
	@echo ""
	@echo "inclusion is running on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	@echo ""
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## make reset-demo: delete the embedded demo database (stop make run first); make run makes a new one
reset-demo:
	@if [ -n "$$INCLUSION_DATABASE_URL" ]; then echo "INCLUSION_DATABASE_URL is set: reset that database yourself"; exit 1; fi
	rm -f instance/inclusion.sqlite3 instance/inclusion.sqlite3-wal instance/inclusion.sqlite3-shm
	@echo "Demo database deleted: 'make run' creates a new one with fresh demo data."

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
## (ours and the wtforms.po of the languages WTForms ships no catalogue for)
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext --no-wrap --sort-by-file -o inclusion/translations/messages.pot .
	$(BIN)/pybabel update -i inclusion/translations/messages.pot -d inclusion/translations --no-wrap
	$(BIN)/pybabel compile -D "messages wtforms" -d inclusion/translations --statistics
