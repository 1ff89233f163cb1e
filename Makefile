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

.PHONY: install run serve test test-cluster cluster nginx redis-server lint chromium wrk migrate seed lock clean audit load bench backup restore

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

# The task worker (mails…) runs beside the web server, and stops with it.
run: seed
	DEBUG=1 $(PY) manage.py task_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT; \
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

# The production profile on http://127.0.0.1:8000: PostgreSQL, DEBUG off,
# gunicorn and the task worker, collected static files; plain http here, so
# HTTPS=0. A secret key is generated once into .secret_key (git-ignored) for
# this single host, unless SECRET_KEY or SECRET_KEY_FILE is given (several
# hosts share one key: see the README).
serve: export DEBUG := 0
serve: export HTTPS := 0
serve: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
serve: export ALLOWED_HOSTS ?= 127.0.0.1,localhost
ifeq ($(SECRET_KEY)$(SECRET_KEY_FILE),)
serve: export SECRET_KEY_FILE := $(CURDIR)/.secret_key
endif
serve: install .secret_key
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py load_seed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py task_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT; \
	$(BIN)/gunicorn --config portal/gunicorn_conf.py --bind $(HOST):$(PORT) portal.wsgi

.secret_key:
	@umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

test: lint chromium
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DEBUG=1 $(PY) manage.py facet_migration --check
	$(BIN)/pytest $(PYTEST_ARGS)

# Install a Debian package whose program is missing: as root with apt-get,
# otherwise say how. $(1): the program, $(2): the package, $(3): who needs it.
APT_GET ?= apt-get
define debian_package
	@if [ ! -x $(1) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null; then \
	    echo "Installing $(2) for $(3) (apt-get install $(2))"; \
	    $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $(2) >/dev/null; \
	  else \
	    echo "Error: $(3) need $(1), from the Debian package $(2)." >&2; \
	    echo "Install it (Debian/Ubuntu: 'sudo apt-get install $(2)'), then run make again." >&2; \
	    exit 1; \
	  fi; \
	fi
endef

# The browser tests drive Debian's Chromium; the benchmark and the load run, wrk.
CHROMIUM ?= /usr/bin/chromium
WRK ?= /usr/bin/wrk
chromium:
	$(call debian_package,$(CHROMIUM),chromium,the browser tests)

wrk:
	$(call debian_package,$(WRK),wrk,the benchmark and the load run)

# A local cluster on loopback: two gunicorn hosts behind nginx, the task worker,
# Redis, a SeaweedFS object store and the machine's PostgreSQL (see
# bench/cluster.py). Ctrl-C stops it all.
NGINX ?= /usr/sbin/nginx
REDIS_SERVER ?= /usr/bin/redis-server
nginx:
	$(call debian_package,$(NGINX),nginx-light,the cluster)

redis-server:
	$(call debian_package,$(REDIS_SERVER),redis-server,the cluster)

cluster: install nginx redis-server
	$(PY) bench/cluster.py

# The cluster's own tests: a form, a session, an image, the rate limits and the
# page cache across two hosts; a host killed mid-submission; the object store
# stopped. `.ci/run` runs them once, after `make test`.
test-cluster: install nginx redis-server
	$(BIN)/pytest -m cluster $(PYTEST_ARGS)

# Security audit of the code and dependencies; needs the network for two of its
# checks, so it is not part of `make test`. Exit 2 means incomplete, not passed.
audit: install
	$(PY) .ci/audit.py

# Load run: gunicorn + wrk on PostgreSQL, then a mixed run with submissions on
# SQLite (about 4 minutes). Figures in bench/results/load.json.
load: install wrk nginx redis-server
	$(PY) bench/load.py

# Benchmark at scale on PostgreSQL (database portal_bench, kept between runs):
# N synthetic initiatives (100 000 by default; `make bench N=1000000`), then
# gunicorn + wrk on every page, the budgets of issue 8 printed as met or not.
# Figures in bench/results/bench-<N>.json; see bench/README.md.
bench: N ?= 100000
bench: install wrk
	$(PY) bench/generate.py $(N)
	$(PY) bench/run.py $(N)

# Back up the database of DATABASE_URL (pg_dump, or SQLite's online backup) and
# MEDIA_ROOT into $(BACKUP_DIR)/<stamp>/; restore one with BACKUP=that folder
# (into RESTORE_DATABASE_URL when set). See "Sauvegardes" in the README.
BACKUP_DIR ?= backups

backup: install
	$(PY) -m core.backup backup --dir "$(BACKUP_DIR)"

restore: install
	@test -n "$(BACKUP)" || { echo "Usage: make restore BACKUP=$(BACKUP_DIR)/<horodatage>" >&2; exit 1; }
	$(PY) -m core.backup restore "$(BACKUP)"

# Re-lock exact versions with hashes after editing pyproject.toml.
lock: install
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --group dev --generate-hashes \
	  --python-version 3.12 --quiet -o requirements.lock

clean:
	rm -rf $(VENV) staticfiles
