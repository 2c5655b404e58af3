# The README's two commands, `make demo` and `make test`, do all set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser demo test bench bench-transform clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python demo/run_demo.py

# The report test loads `sync report`'s page in headless Chromium: Debian's chromium package.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium (for the report test)"; \
		$(SUDO) apt-get install -y -qq chromium >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }; }

test: install browser
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/push_bench.py

# The transform at scale: sync load, dbt build, a no-op rerun, +1 %, full refresh, at 1 M and 10 M events.
bench-transform: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/transform_bench.py

clean:
	rm -rf $(VENV) target logs .demo warehouse.duckdb warehouse.duckdb.wal
