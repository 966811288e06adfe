# The README's two commands. `make run` builds and starts Sightline; `make test` installs the
# test clients (official OpenTelemetry JS and Python SDKs) and runs every check CI runs.

CACHE ?= $(HOME)/.cache/sightline
PYTHON_ENV := $(CACHE)/py-clients
CARGO ?= cargo

.PHONY: run test test-clients ui

# The browser code is built first: the engine embeds the UI (served at /) and the recorder
# (served at /sightline.js).
ui:
	cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build

run: ui
	$(CARGO) run --release -p sightline-server --bin sightline -- serve

test: ui test-clients
	cd ui && npm run typecheck && npm test
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	SIGHTLINE_TEST_PYTHON=$(PYTHON_ENV)/bin/python $(CARGO) test --workspace -- --include-ignored

test-clients:
	cd tests/clients && npm ci --no-audit --no-fund --loglevel=error && npm run build
	test -x $(PYTHON_ENV)/bin/python || python3 -m venv $(PYTHON_ENV)
	$(PYTHON_ENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/clients/requirements.txt
