# Two commands on a fresh machine (Python >= 3.11 and make): `make demo`, `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-floors bench clean

# Installed again whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ogp-workflow needs Python >= 3.11; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(VENV)/.installed
	$(BIN)/ogp demo --dir ogp-demo

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

# The suite on the oldest versions pyproject.toml allows (.ci/floors.txt); CI runs it once.
test-floors:
	$(PYTHON) -m venv .venv-floors
	.venv-floors/bin/python -m pip install --quiet --upgrade pip
	.venv-floors/bin/python -m pip install --quiet -c .ci/floors.txt -e '.[test]'
	.venv-floors/bin/pytest

# Letter throughput against docxtpl and a zipfile floor; prints figures (not part of `make test`).
bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/letters.py

clean:
	rm -rf $(VENV) .venv-floors ogp-demo .pytest_cache .mypy_cache .ruff_cache *.egg-info
