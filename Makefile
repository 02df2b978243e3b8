# openprep: every set-up step lives here so a fresh machine needs only `make demo` / `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REFERENCE ?= ../shared/reference/QROO_DIP_LOC_2019.csv
DEMO_OUT ?= build/demo
DEMO_ARGS ?=
PG_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: install system-packages demo test lint check test-core test-sqlite test-postgres bench bench-captures bench-casilla bench-corte bench-difusion bench-tablero clean

install: $(STAMP)

# Debian packages the tests use for real: Chromium (Playwright drives it), ssh-keygen and
# sftp (corte signatures, bulk pushes to difusores), OpenSSH's sshd (the difusores' SFTP
# servers in tests), openssl (FTPS certificates). Installed only when missing.
system-packages:
	@command -v chromium >/dev/null && command -v ssh-keygen >/dev/null && \
		command -v sftp >/dev/null && \
		test -x /usr/sbin/sshd && command -v openssl >/dev/null || \
		(apt-get update -q && apt-get install -y -q chromium openssh-client openssh-server openssl)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The main job: audit the reference publication and replay it byte for byte through the
# services, then a whole election night on this machine (SQLite): a simulated state, the
# operator console, cortes every few seconds and the public site, until Ctrl-C.
demo: install system-packages
	rm -rf $(DEMO_OUT)
	$(BIN)/openprep audit $(REFERENCE)
	OPENPREP_DATA_DIR=$(DEMO_OUT)/replay $(BIN)/openprep replay $(REFERENCE) --out $(DEMO_OUT)/corte
	cmp $(REFERENCE) $(DEMO_OUT)/corte/$(notdir $(REFERENCE))
	@echo "El corte reconstruido es idéntico byte a byte al publicado: $(DEMO_OUT)/corte/$(notdir $(REFERENCE))"
	OPENPREP_DATA_DIR=$(DEMO_OUT)/noche $(BIN)/openprep demo $(DEMO_ARGS)

lint: install
	$(BIN)/ruff check openprep tests benchmarks
	$(BIN)/ruff format --check openprep tests benchmarks
	$(BIN)/mypy openprep/core
	$(BIN)/lint-imports

# tests/core and tests/cli need no database; tests/apps run on SQLite and on PostgreSQL.
test-core: install system-packages
	$(BIN)/pytest -q tests/core tests/cli

test-sqlite: install system-packages
	$(BIN)/pytest -q tests/apps -m "not postgresql"

test-postgres: install system-packages
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q tests/apps

test: lint test-core test-sqlite test-postgres

bench: install
	$(BIN)/python benchmarks/bench_audit.py

# The corte build at national scale on PostgreSQL (keeps its database; --drop removes it).
bench-corte: install
	$(BIN)/python benchmarks/bench_corte.py --reuse

# Captures accepted per second by `openprep serve` on PostgreSQL (needs PG_URL's server).
# Ten difusores (chrooted SFTP users of a real sshd) receive the national corte that
# bench-corte builds, then following cortes (needs root, like the tests).
bench-difusion: install system-packages
	test -f build/bench/corte/publicacion-170648/latest.json || $(MAKE) bench-corte
	$(BIN)/python benchmarks/bench_difusion.py

bench-captures: install
	$(BIN)/python benchmarks/bench_captures.py --configs 4x4,2x8

# PREP Casilla photo uploads per second by `openprep serve` on PostgreSQL, with the app's
# token and with HTTP Basic on every upload (PostgreSQL at $OPENPREP_BENCH_PG, default
# postgresql://postgres@127.0.0.1:5432).
bench-casilla: install
	$(BIN)/python benchmarks/bench_casilla.py

# The coordinator dashboard's figures at national scale, on a copy of bench-corte's database.
bench-tablero: install
	test -f build/bench/corte/openprep_bench_corte_170648.json || $(MAKE) bench-corte
	$(BIN)/python benchmarks/bench_tablero.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .hypothesis
