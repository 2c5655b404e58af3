# The README's two commands, `make demo` and `make test`, do all set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install install-spark java browser demo test bench bench-transform clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# --target spark (optional): pyspark and dbt-spark in the venv, and a Java runtime (17 or newer)
install-spark: $(VENV)/.spark-installed

$(VENV)/.spark-installed: $(VENV)/.installed | java
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	touch $@

java:
	@java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || { \
		echo "installing Debian's openjdk-17-jre-headless (for --target spark)"; \
		$(SUDO) apt-get install -y -qq openjdk-17-jre-headless >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }; }

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python demo/run_demo.py

# The report test loads `sync report`'s page in headless Chromium: Debian's chromium package.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium (for the report test)"; \
		$(SUDO) apt-get install -y -qq chromium >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }; }

# Both engines: the Spark tests (tests/spark) fail rather than skip here.
test: install install-spark browser
	PATH="$(CURDIR)/$(BIN):$$PATH" BACKFILL_REQUIRE_SPARK=1 $(BIN)/python -m pytest

bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/push_bench.py

# The transform at scale: sync load, dbt build, a no-op rerun, +1 %, full refresh, at 1 M and 10 M events.
bench-transform: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/transform_bench.py

clean:
	rm -rf $(VENV) target logs .demo warehouse.duckdb warehouse.duckdb.wal warehouse.duckdb.spark
