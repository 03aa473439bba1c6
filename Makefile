# Comm-IT: `make run` serves the whole app locally, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
STAGE ?= dev

.PHONY: run test chromium lint clean

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## run: the app and an embedded local AWS on 127.0.0.1 (PORT, LOCAL_AWS_PORT)
run: $(INSTALLED)
	exec $(PY) -m local

## test: the whole suite, real-browser tests included
test: $(INSTALLED) chromium
	$(PY) -m pytest

## chromium: Debian's Chromium for the browser tests (never `playwright install`)
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian chromium for the browser tests..."; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts build
