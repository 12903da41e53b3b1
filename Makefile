# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
NODE_STAMP := node_modules/.installed

.PHONY: demo test lint typecheck unit bench wheel-smoke api-docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet -c constraints.txt -e '.[embedded]'
	touch $@

# the development tools are a dependency group (pip >= 25.1), not a published extra
$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt --group dev -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(STAMP)
	$(PY) -m examples.demo

lint: $(DEV_STAMP)
	$(PY) -m ruff check tctf_dynamo tests examples bench tools
	$(PY) -m ruff format --check tctf_dynamo tests examples bench tools
	$(PY) -m mypy

typecheck: lint

unit: $(DEV_STAMP)
	$(PY) -m pytest -q -m "not server"

# Every tier: lint, unit, property, embedded, and the server tier, which starts moto server
# and dynalite on free loopback ports and stops them when the session ends (also on failure).
test: $(DEV_STAMP) $(NODE_STAMP)
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q
	$(MAKE) --no-print-directory wheel-smoke

# Build the wheel as a release would, install it into a clean venv (no extras, then with
# [embedded]) and run the installed package from outside the source tree.
SMOKE := build/wheel-smoke
wheel-smoke: $(PY)
	rm -rf $(SMOKE)
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir $(SMOKE)/dist .
	$(PYTHON) -m venv $(SMOKE)/venv
	$(SMOKE)/venv/bin/python -m pip install --quiet -c constraints.txt $(SMOKE)/dist/*.whl
	cd $(SMOKE) && venv/bin/python $(CURDIR)/tests/wheel_smoke.py bare
	$(SMOKE)/venv/bin/python -m pip install --quiet -c constraints.txt "$$(ls $(SMOKE)/dist/*.whl)[embedded]"
	cd $(SMOKE) && venv/bin/python $(CURDIR)/tests/wheel_smoke.py embedded

# docs/api.md from the docstrings; a test fails while the committed page is stale
api-docs: $(STAMP)
	$(PY) -m tools.api_reference

bench: $(DEV_STAMP) $(NODE_STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -r bench/requirements.txt
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) build node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
