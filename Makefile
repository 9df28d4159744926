# Two commands set everything up on a fresh machine with Python 3.11:
#   make demo   - install, build the offline demo world, run every built stage, start the dashboard
#   make test   - install (or refresh) and run the linter and the whole test suite
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
TR := $(VENV)/bin/tasteradar
STAMP := $(VENV)/.installed
# This machine's pip configuration names local index folders that may not exist; drop pip's line per package
# about them (pipefail keeps pip's own exit status).
PIP := $(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
DEMO_DB := data/demo/tasteradar.db

.PHONY: demo test lint format bench lock clean-demo help chromium

help:
	@echo "make demo   install, build the demo world, run the stages, start the dashboard on 127.0.0.1:8501"
	@echo "make test   install or refresh .venv, then ruff and the whole test suite"
	@echo "make bench  run every benchmark and evaluation, rewriting docs/BENCHMARKS.md"

# torch is installed first and pinned: the CPU build of torch 2.13.0 is on disk here, and an unpinned
# torch pulls a multi-GB CUDA build. Every other version comes from requirements.lock.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) "torch==2.13.0" $(QUIET_PIP)
	$(PIP) -e ".[dev]" $(QUIET_PIP)
	@touch $(STAMP)

demo: $(STAMP)
	$(TR) demo --db $(DEMO_DB)
	$(TR) --config data/demo/tasteradar.toml dashboard

# The dashboard's end-to-end test drives Debian's Chromium; install it where we can (root with apt-get),
# otherwise that one test is skipped and says why.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the dashboard's end-to-end test"; \
	  apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "could not install chromium: the end-to-end dashboard test will be skipped"; \
	else echo "no /usr/bin/chromium and no root apt-get: the end-to-end dashboard test will be skipped"; fi

test: $(STAMP) chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) -m bench

# Re-resolve the pinned set after a change of dependencies in pyproject.toml.
lock: $(STAMP)
	{ echo "# Exact versions for every fresh machine: pip install -c requirements.lock ... (regenerate: make lock)"; \
	  $(PY) -m pip freeze --exclude-editable | grep -v '^tasteradar'; } > requirements.lock

clean-demo:
	rm -rf data/demo
