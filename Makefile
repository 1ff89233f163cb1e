# Two commands: `make run` serves the portal on http://127.0.0.1:8000 (SQLite),
# `make test` runs the whole suite. Both set up the virtual environment first.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

# Django 6 needs Python 3.12 or newer: try the usual names, then pyenv's versions.
define FIND_PYTHON
for candidate in python3.13 python3.12 \
    $$(ls -d "$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)"/versions/3.1[2-9]*/bin/python3 2>/dev/null) \
    python3; do \
  if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
    echo "$$candidate"; break; \
  fi; \
done
endef

.PHONY: install run test lint migrate seed lock clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
	  echo "Removing $(VENV): it was made with a Python older than 3.12."; rm -rf $(VENV); fi
	@if [ ! -x $(PY) ]; then \
	  python=$$($(FIND_PYTHON)); \
	  if [ -z "$$python" ]; then \
	    echo "Error: Python 3.12 or newer is required (Django 6) and none was found." >&2; \
	    echo "Install one (for example 'pyenv install 3.12') and run make again." >&2; \
	    exit 1; \
	  fi; \
	  echo "Creating $(VENV) with $$python ($$($$python --version))"; \
	  "$$python" -m venv $(VENV); \
	fi
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@touch $@

migrate: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py createcachetable

seed: migrate
	DEBUG=1 $(PY) manage.py load_seed

run: seed
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

test: lint
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

# Re-lock exact versions with hashes after editing pyproject.toml.
lock: install
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --group dev --generate-hashes \
	  --python-version 3.12 --quiet -o requirements.lock

clean:
	rm -rf $(VENV) staticfiles
