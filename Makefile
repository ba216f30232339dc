# Stackyard: every set-up step lives here, so a fresh clone needs only `make run` / `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2
# Debian packages the tests and tools drive: a headless browser, Prometheus, database clients.
SYSTEM_PACKAGES := chromium bubblewrap prometheus prometheus-alertmanager postgresql-client mariadb-client wrk nodejs graphviz nginx haproxy libnginx-mod-http-cache-purge debootstrap
CDN_PACKAGES := nginx haproxy libnginx-mod-http-cache-purge

.PHONY: install run test test-fast lint format system-deps observe-deps cdn-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,infra,loadtest,browser]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do \
		dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
		|| echo "warning: could not install$$missing; the tests that need them will say so"; \
	fi

observe-deps: system-deps

# The local CDN (`stackyard cdn up`): Debian's nginx, HAProxy and the cache-purge module.
cdn-deps:
	@missing=""; for pkg in $(CDN_PACKAGES); do \
		dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install
	$(VENV)/bin/stackyard migrate
	$(VENV)/bin/stackyard serve --host $(HOST) --port $(PORT)

test: install system-deps cdn-deps
	$(PY) -m pytest -n $(PYTEST_WORKERS) --durations=20

test-fast: install
	STACKYARD_TEST_BACKENDS=embedded $(PY) -m pytest -m "not slow" -q -x

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy apps

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .stackyard .pytest_cache .mypy_cache .ruff_cache
