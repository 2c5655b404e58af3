"""Is what `sync` reads up to date? Loads landed after the last `dbt build` took them in, and
the tests the last build failed on the marts that `sync` sends (events, persons, identity_links, groups).

The marts record which loads they were built through (`main.dbt_watermarks`, written by the
incremental models' post-hook), and every `dbt build` records its invocation id in
`main.dbt_build`; dbt's own `run_results.json` of that invocation says what failed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sync.warehouse import relation_exists

PROJECT = Path(__file__).resolve().parents[1]
SENT_MARTS = ("model.backfill.events", "model.backfill.persons", "model.backfill.identity_links", "model.backfill.groups")


@dataclass(frozen=True)
class UnbuiltLoad:
    load_id: int
    records: int
    file_path: str

    def describe(self) -> str:
        return f"load {self.load_id} ({self.records:,} records, {self.file_path}) is not built: run dbt build"


def unbuilt_loads(con: duckdb.DuckDBPyConnection) -> list[UnbuiltLoad]:
    """Loads in raw.loads that the events mart has not taken in yet (before the first build
    there is no mart, and that is what is said instead)."""
    if not relation_exists(con, "raw", "loads") or not relation_exists(con, "main", "events"):
        return []
    if not relation_exists(con, "main", "dbt_watermarks"):
        return []   # built before the marts recorded watermarks: nothing to compare with
    built = con.execute(
        "select coalesce(max(built_through_load), 0) from main.dbt_watermarks where model = 'events'"
    ).fetchone()[0]
    rows = con.execute(
        "select load_id, records, file_path from raw.loads where load_id > ? order by load_id", [built]
    ).fetchall()
    return [UnbuiltLoad(*row) for row in rows]


def target_path() -> Path:
    """dbt's target folder, as dbt finds it: $DBT_TARGET_PATH, else the project's target/."""
    return Path(os.environ.get("DBT_TARGET_PATH") or PROJECT / "target")


def failed_checks(con: duckdb.DuckDBPyConnection, target: Path | None = None) -> list[str]:
    """What the warehouse's last `dbt build` failed on or around the marts `sync` sends: each
    as `test unique_in_build_events_uuid failed (3 rows)` or `model events error: ...`.
    Empty when that build's run_results.json is not there (another target folder, or a later
    dbt command replaced it): nothing is known to be wrong."""
    if not relation_exists(con, "main", "dbt_build"):
        return []
    (build_id,) = con.execute("select any_value(build_id) from main.dbt_build").fetchone()
    target = target or target_path()
    try:
        results = json.loads((target / "run_results.json").read_text())
    except (OSError, ValueError):
        return []
    if build_id is None or results.get("metadata", {}).get("invocation_id") != build_id:
        return []
    failed = [r for r in results.get("results", []) if r.get("status") in ("fail", "error")]
    if not failed:
        return []
    try:
        nodes = json.loads((target / "manifest.json").read_text()).get("nodes", {})
    except (OSError, ValueError):
        nodes = {}
    problems = []
    for result in failed:
        status, unique_id = result.get("status"), result.get("unique_id", "")
        node = nodes.get(unique_id, {})
        touches = unique_id in SENT_MARTS or set(node.get("depends_on", {}).get("nodes", [])) & set(SENT_MARTS)
        if not touches:
            continue
        kind, name = node.get("resource_type", unique_id.split(".")[0]), node.get("name", unique_id)
        if status == "fail":
            rows = result.get("failures") or 0
            problems.append(f"{kind} {name} failed ({rows:,} row{'' if rows == 1 else 's'})")
        else:
            message = (result.get("message") or "").splitlines()
            problems.append(f"{kind} {name} error: {message[0] if message else 'see dbt logs'}")
    return problems
