# The README's two commands, `make demo` and `make test`, do all set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install demo test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python demo/run_demo.py

test: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/push_bench.py

clean:
	rm -rf $(VENV) target logs .demo warehouse.duckdb warehouse.duckdb.wal
