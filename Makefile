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

.PHONY: up install install-test browser nginx wrk test test-sqlite test-postgres test-latest lint lock bench soak python

up: install
	$(BIN)/shipwith up

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "No Python 3.11 or newer on PATH: install one (e.g. apt install python3), or run make PYTHON=/path/to/python3.X" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "$(PYTHON) is older than 3.11: shipwith needs Python 3.11 or newer" >&2; exit 1; }
	@echo "Creating $(VENV) with $$($(PYTHON) -c 'import sys; print(sys.executable, sys.version.split()[0])')"
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "$(PYTHON) -m venv failed: on Debian or Ubuntu install the python3-venv package for this version" >&2; exit 1; }

# Installs come from the lock and nothing else: every package pinned with its hashes, wheels
# only but for the two locked sdists, built by the locked build tools (no build isolation).
LOCKED := --require-hashes --no-deps --only-binary :all: --no-binary llama-cpp-python,jstyleson
$(VENV)/.installed-build: requirements/build.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/build.txt
	touch $@

$(VENV)/.installed: requirements/app.txt pyproject.toml $(VENV)/.installed-build
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet $(LOCKED) --no-build-isolation \
		-r requirements/app.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	touch $@

$(VENV)/.installed-test: requirements/test.txt $(VENV)/.installed
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet $(LOCKED) --no-build-isolation \
		-r requirements/test.txt
	$(BIN)/pip check
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test browser nginx

# Debian's chromium for the Playwright tests (never a downloaded browser build).
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	@test -f node_modules/axe-core/axe.min.js || npm ci --silent --no-audit --no-fund  # package-lock.json: pinned, with its hash

# Debian's nginx for the deploy tests (tests/deploy run it on loopback with the shipped config);
# installed only, never started as a service.
nginx:
	@test -x /usr/sbin/nginx || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq nginx >/dev/null)

# Debian's wrk for the throughput benchmarks (bench/web_throughput.py, bench/api_throughput.py).
wrk:
	@test -x /usr/bin/wrk || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq wrk >/dev/null)

lint: install-test
	$(BIN)/ruff check shipwith tests bench
	$(BIN)/ruff format --check shipwith tests bench
	$(BIN)/lint-imports  # .importlinter: the layers, core imports no app, no circles, tasks

test-sqlite: install-test
	env -u DATABASE_URL $(BIN)/pytest

test-postgres: install-test
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not browser"

test: lint test-sqlite test-postgres

bench: install-test wrk
	$(BIN)/python bench/run_all.py

# Every job at once under load, with faults, on loopback (bench/soak/README.md); not in `make test`.
# Locust comes from its own lock (requirements/soak.txt: the test set plus the `soak` extra).
SOAK_SECONDS ?= 600
$(VENV)/.installed-soak: requirements/soak.txt $(VENV)/.installed-test
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet $(LOCKED) --no-build-isolation \
		-r requirements/soak.txt
	$(BIN)/pip check
	touch $@

soak: $(VENV)/.installed-soak nginx
	SOAK_SECONDS=$(SOAK_SECONDS) PG_URL=$(PG_URL) $(BIN)/python bench/soak/run.py

# Which Python the venv would be made with (CI and the README use it).
python:
	@echo $(PYTHON)

# Refresh the lock (requirements/*.txt) from pyproject.toml's ranges with uv, itself locked.
# One universal file per set serves Python 3.11 to 3.13 (markers pick per version).
UV_COMPILE = .venv-lock/bin/uv pip compile --quiet --universal --python-version 3.11 \
	--generate-hashes --only-binary :all: --no-binary llama-cpp-python --no-binary jstyleson
lock:
	test -x .venv-lock/bin/uv || { $(PYTHON) -m venv .venv-lock && \
		.venv-lock/bin/pip install --quiet --require-hashes --no-deps -r requirements/uv.txt; }
	$(UV_COMPILE) --upgrade requirements/uv.in -o requirements/uv.txt
	$(UV_COMPILE) --upgrade requirements/build.in -o requirements/build.txt
	$(UV_COMPILE) --upgrade pyproject.toml --extra local --extra anthropic --extra test \
		-o requirements/test.txt
	$(UV_COMPILE) pyproject.toml --extra local --extra anthropic -c requirements/test.txt \
		-o requirements/app.txt
	$(UV_COMPILE) pyproject.toml --extra local --extra anthropic --extra test --extra soak \
		-c requirements/test.txt -o requirements/soak.txt

# The suite against the newest versions pyproject.toml allows, in a venv of its own: run it
# before `make lock` and weekly (it is not in .ci/run), so a coming break is seen before users.
LATEST := .venv-latest
test-latest: browser nginx
	test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(LATEST)/bin/pip install --quiet --upgrade --upgrade-strategy eager \
		-e ".[local,anthropic,test]"
	env -u DATABASE_URL $(LATEST)/bin/pytest -p no:cacheprovider
	DATABASE_URL=$(PG_URL) $(LATEST)/bin/pytest -p no:cacheprovider -m "not browser"
