"""The same exports on DuckDB and on Spark, and a comparison of the tables each engine built.

Spark's tables are read through DuckDB from their Parquet files (sync/spark.py), so both sides
are compared in one place, row by row, after canonicalising: JSON text is parsed and written
back with sorted keys, times are naive UTC. Columns that say when or by which build a row was
written (`build_id`, `loaded_at`) differ by nature and are left out.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.helpers import FIXTURES, REPO
from tests.support.people import all_exports
from tests.support.source_exports import amplitude_zip, ga4_exports, segment_archive

# every table dbt builds that `sync` or an analyst reads
COMPARED = ("stg_landing__loads", "stg_landing__bad_lines", "int_events__validated", "events",
            "events_rejected", "events_excluded", "events_duplicates", "persons", "identity_links",
            "groups", "segment_events")
WHEN_OR_WHICH_BUILD = {"build_id", "loaded_at"}

# each profile has a $last_seen: without one a profile's time is its load time, which differs
# between the two landings
PROFILES = """[
  {"$distinct_id": "p-1", "$properties": {"$name": "Zoë", "$email": "zoe@example.com", "plan": "pro", "$last_seen": "2023-01-05T10:00:00"}},
  {"$distinct_id": "p-2", "$properties": {"plan": "free", "$last_seen": "2023-02-01T08:30:00", "seats": 3, "tags": ["a", "b"], "quote": "it's \\"so\\" \\\\ odd"}}
]"""


def every_source(folder: Path) -> list[tuple[str, list[str]]]:
    """`sync load` arguments that land every source's fixture exports (and a CSV table)."""
    folder.mkdir(parents=True, exist_ok=True)
    people = folder / "people"
    people.mkdir(exist_ok=True)
    exports = all_exports(people)
    ndjson, parquet = ga4_exports(folder)
    profiles = folder / "profiles.json"
    profiles.write_text(PROFILES, encoding="utf-8")
    return [
        ("mixpanel", [str(FIXTURES / "mixpanel_small.jsonl"), str(exports["mixpanel"])]),
        ("amplitude", [str(amplitude_zip(folder)), str(exports["amplitude"])]),
        ("segment", [str(segment_archive(folder)), str(exports["segment"])]),
        ("ga4", [str(ndjson), str(parquet), str(exports["ga4"])]),
        ("mixpanel-profiles", [str(profiles)]),
        ("table", ["shop_events", str(REPO / "examples" / "shop_events.csv")]),
    ]


def canonical(value):
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.dumps(json.loads(value), sort_keys=True, ensure_ascii=False)
        except ValueError:
            return value
    if isinstance(value, (list, tuple)):
        return json.dumps([canonical(v) for v in value], sort_keys=True, ensure_ascii=False, default=str)
    if isinstance(value, dict):
        return json.dumps({k: canonical(v) for k, v in value.items()}, sort_keys=True, ensure_ascii=False, default=str)
    if hasattr(value, "isoformat"):
        if getattr(value, "tzinfo", None) is not None:
            value = value.replace(tzinfo=None)
        return value.isoformat()
    return value


def rows_of(con, relation: str, columns: list[str]) -> list[tuple]:
    select = ", ".join(f'"{c}"' for c in columns)
    return sorted((tuple(canonical(v) for v in row) for row in con.execute(f"select {select} from {relation}").fetchall()), key=repr)


def columns_of(con, relation: str) -> list[str]:
    return [c for (c, *_) in con.execute(f"describe select * from {relation}").fetchall()]


def differences(con, duckdb_relation: str, spark_relation: str, show: int = 3) -> list[str]:
    """What differs between the two relations (read on one DuckDB connection): [] when equal."""
    ours, theirs = columns_of(con, duckdb_relation), columns_of(con, spark_relation)
    problems = []
    if sorted(ours) != sorted(theirs):
        problems.append(f"columns differ: duckdb {ours}, spark {theirs}")
    compared = [c for c in ours if c in theirs and c not in WHEN_OR_WHICH_BUILD]
    left, right = rows_of(con, duckdb_relation, compared), rows_of(con, spark_relation, compared)
    if left != right:
        problems.append(f"{len(left)} duckdb rows, {len(right)} spark rows")
        for name, rows, other in (("duckdb only", left, right), ("spark only", right, left)):
            for row in [r for r in rows if r not in other][:show]:
                problems.append(f"{name}: " + ", ".join(f"{c}={v!r}" for c, v in zip(compared, row))[:2000])
    return problems
