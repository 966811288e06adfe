# The README's two commands, `make run` and `make test`, plus `make bundle` for packages. Each
# first installs the system packages it needs (.ci/install-deps; apt on Debian, nothing on macOS).

CACHE ?= $(HOME)/.cache/sightline
PYTHON_ENV := $(CACHE)/py-clients
CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

.PHONY: run test test-clients ui bundle api

# The browser code is built first: the engine embeds the UI (served at /) and the recorder
# (served at /sightline.js).
ui:
	cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build

# The desktop app; with no display it runs headless and prints the UI's address.
run:
	.ci/install-deps run
	$(MAKE) ui
	$(CARGO) run --release -p sightline-desktop

test:
	.ci/install-deps test
	$(MAKE) ui test-clients
	cd ui && npm run check:api && npm run typecheck && npm test
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	SIGHTLINE_TEST_PYTHON=$(PYTHON_ENV)/bin/python $(CARGO) test --workspace -- --include-ignored

# The API's OpenAPI document, from the engine's answer types, and the UI's TypeScript types
# from it (`make test` fails while either is stale).
api:
	$(CARGO) run -q -p sightline-server -- openapi > ui/src/api/openapi.json
	cd ui && npm run api

test-clients:
	cd tests/clients && npm ci --no-audit --no-fund --loglevel=error && npm run build
	test -x $(PYTHON_ENV)/bin/python || python3 -m venv $(PYTHON_ENV)
	$(PYTHON_ENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/clients/requirements.txt

# The .deb (by the Tauri CLI, installed from npm into the cache) and an AppImage made from it.
TAURI_CLI := $(CACHE)/tauri-cli
bundle:
	.ci/install-deps bundle
	$(MAKE) ui
	test -x $(TAURI_CLI)/node_modules/.bin/tauri || npm install --prefix $(TAURI_CLI) --no-save --no-audit --no-fund --loglevel=error @tauri-apps/cli@2.12.5
	$(TAURI_CLI)/node_modules/.bin/tauri build --bundles deb
	$(CARGO) run --release -p sightline-bundle -- $(TARGET_DIR)/release/bundle/deb/Sightline_0.1.0_amd64.deb $(TARGET_DIR)/release/bundle/appimage/Sightline_0.1.0_amd64.AppImage
	@ls -l $(TARGET_DIR)/release/bundle/deb/*.deb $(TARGET_DIR)/release/bundle/appimage/*.AppImage
