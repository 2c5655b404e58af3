"""Shared fixtures: a real PostHog-compatible endpoint on 127.0.0.1, a warehouse file per
test, and the real `dbt build` against it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sync.cli import app
from tests.support.capture import CaptureServer, CaptureState
from tests.support.helpers import API_KEY, FIXTURES, run_dbt


@pytest.fixture
def capture():
    server = CaptureServer(CaptureState(API_KEY)).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dbt_dirs(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("dbt")
    return {"DBT_TARGET_PATH": str(base / "target"), "DBT_LOG_PATH": str(base / "logs")}


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("WAREHOUSE_PATH", str(path))
    return path


@pytest.fixture
def dbt(warehouse, dbt_dirs):
    """Run the real dbt against this test's warehouse; fail the test if dbt fails."""

    def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = run_dbt(warehouse, dbt_dirs, *args)
        if check and result.returncode != 0:
            pytest.fail(f"dbt {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
        return result

    return _run


@pytest.fixture
def cli():
    runner = CliRunner()

    def _invoke(*args: str, env: dict[str, str] | None = None):
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)

    return _invoke


@pytest.fixture(scope="session")
def built_small(tmp_path_factory, dbt_dirs) -> Path:
    """A warehouse with tests/fixtures/mixpanel_small.jsonl loaded and built, made once."""
    path = tmp_path_factory.mktemp("built") / "warehouse.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "sync", "load", "mixpanel", str(FIXTURES / "mixpanel_small.jsonl")],
        env={**os.environ, "WAREHOUSE_PATH": str(path)}, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    built = run_dbt(path, dbt_dirs, "build")
    assert built.returncode == 0, built.stdout[-4000:]
    return path


@pytest.fixture
def small_warehouse(built_small, warehouse) -> Path:
    """A private copy of the built small warehouse for one test to push from."""
    shutil.copy(built_small, warehouse)
    return warehouse


