# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-8)

.PHONY: run test lint typecheck pytest locales messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

locales: $(STAMP)
	$(BIN)/pybabel compile -d locales -D crmhub

run: $(STAMP) locales
	$(BIN)/crmhub run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy crm inbox admin_web bot crmhub

pytest: $(STAMP) locales
	bash tests/system-deps.sh
	$(BIN)/pytest -q
	if [ -n "$$CRMHUB_TEST_PG_DSN" ]; then CRMHUB_TEST_BACKEND=postgres $(BIN)/pytest -q; fi

test: lint typecheck pytest

# Re-extract translatable strings into the catalogs (developers only).
messages: $(STAMP)
	$(BIN)/python tools/catalog.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
