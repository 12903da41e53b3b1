# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
NODE_STAMP := node_modules/.installed

.PHONY: demo test lint typecheck unit bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet -c constraints.txt -e '.[embedded]'
	touch $@

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(STAMP)
	$(PY) -m examples.demo

lint: $(DEV_STAMP)
	$(PY) -m ruff check tctf_dynamo tests examples bench
	$(PY) -m ruff format --check tctf_dynamo tests examples bench
	$(PY) -m mypy

typecheck: lint

unit: $(DEV_STAMP)
	$(PY) -m pytest -q -m "not server"

# Every tier: lint, unit, property, embedded, and the server tier, which starts moto server
# and dynalite on free loopback ports and stops them when the session ends (also on failure).
test: $(DEV_STAMP) $(NODE_STAMP)
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q

bench: $(DEV_STAMP) $(NODE_STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -r bench/requirements.txt
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
