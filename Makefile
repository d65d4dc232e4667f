# Two commands on a fresh machine (Python >= 3.11 and make): `make demo`, `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The suite runs in one worker per core (pytest-xdist); a worker that finishes early takes tests
# from the others. `make test PYTEST_WORKERS=-n0` runs it in one process.
PYTEST_WORKERS ?= -n auto --dist worksteal

.PHONY: demo test test-floors bench stress tamper publish-bench clean

# Installed again whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ogp-workflow needs Python >= 3.11; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# Byte-compiled now, as pip does for installed packages: where PYTHONDONTWRITEBYTECODE is set
	@# the editable sources would otherwise be compiled again by every command.
	$(BIN)/python -m compileall -q cli.py states workflow documents
	@touch $@

demo: $(VENV)/.installed
	$(BIN)/ogp demo --dir ogp-demo

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_WORKERS)

# The suite on the oldest versions pyproject.toml allows (.ci/floors.txt); CI runs it once.
test-floors:
	$(PYTHON) -m venv .venv-floors
	.venv-floors/bin/python -m pip install --quiet --upgrade pip
	.venv-floors/bin/python -m pip install --quiet -c .ci/floors.txt -e '.[test]'
	.venv-floors/bin/pytest $(PYTEST_WORKERS)

# Benchmarks print figures; none is part of `make test`.
# Letters against docxtpl and a zipfile floor (interleaved rounds); the CLI's start-up against its
# floors; the whole cycle for 1,000 proposals through the batch commands (`python bench/cycle.py
# 1000 10000` compares two sizes).
bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m compileall -q cli.py states workflow documents  # sources edited since install: time them compiled
	$(BIN)/python bench/letters.py
	$(BIN)/python bench/cli.py
	$(BIN)/python bench/cycle.py 1000

# Concurrent coordinators and kill -9 crashes, on SQLite and a throw-away PostgreSQL.
stress: $(VENV)/.installed
	$(BIN)/python bench/stress.py

# Every kind of tampering with every table and with the chain, on the demo's workspace.
tamper: $(VENV)/.installed
	$(BIN)/python bench/tamper.py

# The published site built from a 10,000-proposal workspace, timed.
publish-bench: $(VENV)/.installed
	$(BIN)/python bench/publish.py

clean:
	rm -rf $(VENV) .venv-floors ogp-demo .pytest_cache .mypy_cache .ruff_cache *.egg-info
