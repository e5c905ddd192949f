# One entry point for people and CI. `make mock` starts the mock, `make test` runs every test;
# both create .venv and install the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ARGS ?=
SPEC_LINTERS := tools/spec-linters
TYPESCRIPT := tests/typescript

.PHONY: mock test test-floor test-newest prerequisites typecheck lint bench bench-hostile clean

$(STAMP): pyproject.toml constraints.txt
	@echo "Creating $(VENV) and installing the pinned dependencies (constraints.txt); about a minute on first use..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

mock: $(STAMP)
	$(BIN)/python -m mock_server $(ARGS)

# Node, npm and chromium are checked first, one line each when missing (tools/check-prerequisites).
test: prerequisites $(STAMP) $(TYPESCRIPT)/node_modules/.package-lock.json
	$(BIN)/python -m pytest -n 2 --dist loadfile $(ARGS)

# The pinned TypeScript generators and compiler of the client tests, installed before the run (as the
# linters are for `make lint`), so the test run's time is the tests'.
$(TYPESCRIPT)/node_modules/.package-lock.json: $(TYPESCRIPT)/package-lock.json
	cd $(TYPESCRIPT) && npm ci --no-audit --no-fund

prerequisites:
	@PYTHON=$(PYTHON) bash tools/check-prerequisites

# The mock's tests on the lowest and on the newest dependency versions pyproject.toml allows (CI runs both
# after `make test`; each builds a throwaway venv with uv, about a minute).
test-floor: $(STAMP)
	bash .ci/test-range lowest

test-newest: $(STAMP)
	bash .ci/test-range newest

# Strict mypy on the packages pyproject.toml's [tool.mypy] lists (CI runs it before `make test`).
typecheck: $(STAMP)
	$(BIN)/python -m mypy


# Our rules (spec_lint; ARGS go to it), then Spectral (spectral:oas, .spectral.yaml; a warning fails) and
# Redocly (recommended, redocly.yaml), pinned in tools/spec-linters/ and installed by `npm ci` on first use.
# All three run; the target fails if any of them found a problem.
lint: $(STAMP) $(SPEC_LINTERS)/node_modules/.package-lock.json
	@status=0; \
	$(BIN)/python -m spec_lint $(ARGS) || status=1; \
	$(SPEC_LINTERS)/node_modules/.bin/spectral lint openapi.yaml --ruleset .spectral.yaml --fail-severity warn \
		--display-only-failures || status=1; \
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
		$(SPEC_LINTERS)/node_modules/.bin/redocly lint openapi.yaml --config redocly.yaml --format stylish || status=1; \
	exit $$status

$(SPEC_LINTERS)/node_modules/.package-lock.json: $(SPEC_LINTERS)/package-lock.json
	cd $(SPEC_LINTERS) && npm ci --no-audit --no-fund

bench: $(STAMP)
	$(BIN)/python bench/run.py $(ARGS)

bench-hostile: $(STAMP)
	$(BIN)/python bench/hostile.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
