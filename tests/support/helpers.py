"""Plain helpers the tests share (fixtures are in tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.source_exports import amplitude_zip, ga4_exports, segment_archive

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
API_KEY = "phc_test_key_do_not_print"
DBT = str(Path(sys.executable).with_name("dbt"))

PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "selectors.yml", "models", "macros", "seeds", "tests/dbt")


def run_dbt(warehouse: Path, dbt_dirs: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **dbt_dirs, "WAREHOUSE_PATH": str(warehouse)}
    result = subprocess.run(
        [DBT, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    return result


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    """Read the warehouse the way an analyst would, read-only."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def push_env(server, key: str = API_KEY) -> dict[str, str]:
    return {"POSTHOG_HOST": server.url, "POSTHOG_API_KEY": key}


def project_copy(tmp_path: Path) -> Path:
    """The dbt project, copied so that a test can edit its seeds."""
    copy = tmp_path / "project"
    for name in PROJECT_FILES:
        source, target = REPO / name, copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return copy


def dbt_in(project: Path, warehouse: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The real dbt in a copy of the project (its target/ inside the copy)."""
    env = {**os.environ, "WAREHOUSE_PATH": str(warehouse), "DBT_TARGET_PATH": str(project / "target"),
           "DBT_LOG_PATH": str(project / "logs")}
    result = subprocess.run([DBT, *args], cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 or not check, result.stdout[-3000:]
    return result


def segment_env(server, key: str = API_KEY) -> dict[str, str]:
    return {"SEGMENT_HOST": server.url, "SEGMENT_WRITE_KEY": key}


def mixed_warehouse(tmp_path, cli, dbt) -> None:
    ndjson, parquet = ga4_exports(tmp_path)
    for source, paths in [("amplitude", [amplitude_zip(tmp_path)]), ("segment", [segment_archive(tmp_path)]),
                          ("ga4", [ndjson, parquet])]:
        assert cli("load", source, *map(str, paths)).exit_code == 0
    dbt("build")


def with_module(package, tmp_path: Path, monkeypatch, name: str, text: str) -> None:
    """`package` (sync.sources or sync.destinations) as it would be with one module more: its
    folder copied with `name`.py added, and the package pointed at the copy for this test."""
    copy = tmp_path / f"{package.__name__.replace('.', '_')}_copy"
    shutil.copytree(Path(package.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / f"{name}.py").write_text(text)
    monkeypatch.setattr(package, "__path__", [str(copy)])
