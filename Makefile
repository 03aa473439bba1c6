# Comm-IT: `make run` serves the whole app locally, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
AXE := node_modules/axe-core/axe.min.js
STAGE ?= dev
# Compiled bytecode kept, outside the source tree (so it never reaches the Lambda zip), even
# where the environment says PYTHONDONTWRITEBYTECODE: else every test worker and every process
# the tests start compiles the project again, and pytest rewrites every test module again.
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX := $(CURDIR)/$(VENV)/pycache

.PHONY: run redrive lint check canaries test chromium bench clean

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## run: the app and an embedded local AWS on 127.0.0.1 (PORT, LOCAL_AWS_PORT); the local
## data is kept in .local-state/ across restarts (LOCAL_STATE_DIR); CLEAN=1 starts empty
run: $(INSTALLED)
	exec $(PY) -m local $(if $(CLEAN),--clean)

## redrive: every dead-letter queue of the running `make run` back to its queue
redrive: $(INSTALLED)
	$(PY) -m local redrive

## lint: ruff (pyproject.toml: line length 100, E F W B BLE N S) and mypy on chalicelib/
lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m mypy

## check: the loop while you work, no process started, no browser: tests/unit + tests/stack,
## "is the app right", and tests/local, "is the emulation right" (local/ against AWS's documented
## behaviour); one run on 4 workers (pytest-xdist), each with its own moto server: a worker
## spends about a third of its time waiting in real seconds (queue delays, long polls, throttles),
## so 4 fill 2 cores (2 vs 4 in turn, same machine: 97-100 s vs 78-84 s); a worker with nothing
## left takes tests from another (worksteal: a module's stack is rebuilt from its snapshot, 0.1 s);
## schemathesis's pytest plugin (tests/run's fuzzing only) is not loaded: 0.35 s a process
check: $(INSTALLED) lint
	$(PY) -m pytest tests/unit tests/stack tests/local -n 4 --dist worksteal -p no:schemathesis

## canaries: is the emulation still needed? each patch of local/ (local/moto_patches/) shown
## against moto and chalice local unpatched; a failing canary names the patch to delete (~10 s)
canaries: $(INSTALLED)
	$(PY) -m pytest tests/canaries

## test: the whole suite, every tier: unit, stack, canaries, package, run, browser (what .ci/run runs)
test: $(INSTALLED) lint chromium $(AXE)
	$(PY) -m pytest

## axe-core (npm) for the accessibility tests, pinned by package-lock.json
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

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

## bench: prove the speed and memory targets (bench/README.md); fails if one is missed
bench: $(INSTALLED)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts build node_modules

## deploy: the stack of infra/template.yaml, its outputs into .chalice/config.json,
## the per-Lambda policies, `chalice deploy`, then what Chalice cannot set (gateway
## responses, throttling, event source settings); prints the URL. STAGE=dev by default;
## ALARM_EMAIL=ops@example.com, SES_IDENTITY_ARN=arn:aws:ses:... with SES_FROM_ADDRESS=no-reply@...
## AUTH_RATE_LIMIT=500 (AWS WAF: requests to /api/auth/* per client IP in 5 minutes; 0 = off)
## and PASSKEY_RP_ID=example.com (the passkeys' relying party, a custom domain; else the API's
## host, set once chalice deploy has made it) are optional (kept if unset).
## Chalice's record of the stage is kept in Parameter Store.
## The functions run on this Python's version: one AWS deprecates within a year is refused
## unless named in ACCEPT_RUNTIME=python3.11 (also for package; README, Deploy).
deploy: $(INSTALLED)
	$(PY) -m infra.deploy deploy --stage $(STAGE) \
	  $(if $(ALARM_EMAIL),--alarm-email $(ALARM_EMAIL)) $(if $(SES_IDENTITY_ARN),--ses-identity-arn $(SES_IDENTITY_ARN)) \
	  $(if $(SES_FROM_ADDRESS),--ses-from-address "$(SES_FROM_ADDRESS)") \
	  $(if $(AUTH_RATE_LIMIT),--auth-rate-limit $(AUTH_RATE_LIMIT)) \
	  $(if $(PASSKEY_RP_ID),--passkey-rp-id $(PASSKEY_RP_ID)) \
	  $(if $(ACCEPT_RUNTIME),--accept-runtime $(ACCEPT_RUNTIME))

## destroy: `chalice delete`, then the stack; the user pool, users table and bucket are kept
## (it says how to remove them: python -m infra.deploy purge-retained --stage STAGE --yes)
destroy: $(INSTALLED)
	$(PY) -m infra.deploy destroy --stage $(STAGE)

## package: ONE CloudFormation template (stack + app) and the Lambda zip in build/$(STAGE)/,
## offline and without AWS credentials; it prints the commands that deploy it through an
## artifact bucket, with a change set to review first (docs/deploy.md)
package: $(INSTALLED)
	$(PY) -m infra.package --stage $(STAGE) $(if $(ACCEPT_RUNTIME),--accept-runtime $(ACCEPT_RUNTIME))
## smoke: prove a stage works with a throwaway user (docs/deploy.md, "Prove a stage"): STAGE=dev
## checks a deployed stage with your AWS credentials; with no STAGE (command line or
## environment) it checks the running `make run` (PORT, LOCAL_AWS_PORT). PASS/FAIL/SKIP lines
smoke: $(INSTALLED)
	$(PY) -m infra.smoke $(if $(filter file,$(origin STAGE)),,--stage $(STAGE))
.PHONY: deploy destroy package smoke
