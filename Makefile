# One entry point for people and CI. `make mock` starts the mock, `make test` runs every test;
# both create .venv and install the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ARGS ?=

.PHONY: mock test test-floor lint bench bench-hostile clean

$(STAMP): pyproject.toml constraints.txt
	@echo "Creating $(VENV) and installing the pinned dependencies (constraints.txt); about a minute on first use..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

mock: $(STAMP)
	$(BIN)/python -m mock_server $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

# The mock's tests on the lowest dependency versions pyproject.toml allows (CI runs it after `make test`).
test-floor: $(STAMP)
	bash .ci/test-floor

lint: $(STAMP)
	$(BIN)/python -m contract_tests.lint $(ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py $(ARGS)

bench-hostile: $(STAMP)
	$(BIN)/python bench/hostile.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
