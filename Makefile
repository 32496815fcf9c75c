# The one way to run things; the README's two commands are `make up` and `make test`.
# The newest python3.X (3.11 or later) on PATH that runs, or PYTHON=/path/to/python3.X.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in $$(seq -f 'python3.%g' 30 -1 11) python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; \
	done)
endif
VENV := .venv
BIN := $(VENV)/bin
# llama-cpp-python built for a portable CPU: the default native build crashed on this machine.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_OPENMP=OFF
PG_URL ?= postgres://postgres@127.0.0.1:5432/shipwith

.PHONY: up install install-test browser nginx test test-sqlite test-postgres lint bench python

up: install
	$(BIN)/shipwith up

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "No Python 3.11 or newer on PATH: install one (e.g. apt install python3), or run make PYTHON=/path/to/python3.X" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "$(PYTHON) is older than 3.11: shipwith needs Python 3.11 or newer" >&2; exit 1; }
	@echo "Creating $(VENV) with $$($(PYTHON) -c 'import sys; print(sys.executable, sys.version.split()[0])')"
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "$(PYTHON) -m venv failed: on Debian or Ubuntu install the python3-venv package for this version" >&2; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -e ".[local,anthropic]"
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -e ".[local,anthropic,test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test browser nginx

# Debian's chromium for the Playwright tests (never a downloaded browser build).
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	@test -f node_modules/axe-core/axe.min.js || npm install --silent --no-audit --no-fund

# Debian's nginx for the deploy tests (tests/deploy run it on loopback with the shipped config);
# installed only, never started as a service.
nginx:
	@test -x /usr/sbin/nginx || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq nginx >/dev/null)

lint: install-test
	$(BIN)/ruff check shipwith tests bench

test-sqlite: install-test
	env -u DATABASE_URL $(BIN)/pytest

test-postgres: install-test
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not browser"

test: lint test-sqlite test-postgres

bench: install-test
	$(BIN)/python bench/run_all.py

# Which Python the venv would be made with (CI and the README use it).
python:
	@echo $(PYTHON)
