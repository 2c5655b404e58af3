"""`make demo`: the whole flow on a realistic Mixpanel export, against a local
PostHog-compatible endpoint that the demo starts and stops itself.

Everything lives in .demo/ (export files, warehouse, what the endpoint received), made
fresh on every run; your own warehouse.duckdb is not touched.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".demo"
BIN = Path(sys.executable).parent
API_KEY = "phc_demo_local_key"


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def run(*args: str, env: dict[str, str], check: bool = True) -> None:
    print("$ " + " ".join(args), flush=True)
    result = subprocess.run(args, cwd=REPO, env=env)
    if check and result.returncode != 0:
        sys.exit(f"demo step failed: {' '.join(args)} exited {result.returncode}")


def main() -> None:
    sys.path.insert(0, str(REPO))
    from tests.support.synthetic import write_mixpanel_export

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    received = WORK / "received.jsonl"

    step("1. A Mixpanel raw export: 20,000 events over 90 days in 3 files, with real-world mess")
    manifest = write_mixpanel_export(WORK / "mixpanel-export", events=20_000, files=3, days=90)
    print(
        f"{manifest.lines:,} lines: {manifest.events:,} distinct events, {manifest.duplicates:,} exported twice, "
        f"{sum(manifest.rejected.values()):,} unusable records, {manifest.malformed_lines:,} malformed or blank lines"
    )

    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.capture", "--api-key", API_KEY, "--out", str(received)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    try:
        url = server.stdout.readline().strip()
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "WAREHOUSE_PATH": str(WORK / "warehouse.duckdb"),
            "POSTHOG_HOST": url,
            "POSTHOG_API_KEY": API_KEY,
        }
        print(f"local PostHog-compatible endpoint listening on {url}")

        step("2. Land the raw export (run twice: the second run is a no-op)")
        run("sync", "load", "mixpanel", str(WORK / "mixpanel-export"), env=env)
        run("sync", "load", "mixpanel", str(WORK / "mixpanel-export"), env=env)

        step("3. Transform with dbt: staging, mappings, marts, tests")
        run("dbt", "build", "--quiet", env=env)
        print("dbt build: all models built and all tests passed")

        step("4. Push to PostHog (persons, identity links, groups, then events), then push again: nothing is resent")
        run("sync", "push", "--destination", "posthog", env=env)
        run("sync", "push", "--destination", "posthog", env=env)

        step("5. sync status, and the audit report")
        run("sync", "status", env=env)
        run("sync", "report", "--out", str(WORK / "report.html"), env=env)
    finally:
        server.terminate()
        server.wait(timeout=10)

    step("6. What the endpoint received")
    received_all = [json.loads(line) for line in received.read_text(encoding="utf-8").splitlines()]
    # the people streams (persons and id links as $identify, groups as $groupidentify) come first
    people = collections.Counter(e["event"] for e in received_all if e["event"] in ("$identify", "$groupidentify"))
    events = [e for e in received_all if e["event"] not in ("$identify", "$groupidentify")]
    if people:
        print("people and groups received first: " + ", ".join(f"{name} {count:,}" for name, count in people.items()))
    uuids = [e["uuid"] for e in events]
    print(f"{len(events):,} events received, {len(set(uuids)):,} distinct uuids, expected {manifest.events:,}")
    names = collections.Counter(e["event"] for e in events)
    print("by event: " + ", ".join(f"{name} {count:,}" for name, count in names.most_common()))
    print("first event sent (oldest first):")
    print(json.dumps(events[0], indent=2, ensure_ascii=False))
    if set(uuids) != manifest.expected_uuids or len(uuids) != len(set(uuids)):
        sys.exit("demo check failed: the endpoint did not receive exactly the expected events")
    print("\nEvery valid event arrived exactly once. Audit it yourself:")
    print(f"  export WAREHOUSE_PATH={WORK / 'warehouse.duckdb'}   # then, from the venv (.venv/bin/sync):")
    print("  sync status")
    print('  sync sql "select rejection_reason, count(*) from events_rejected group by 1"')
    print('  sync sql "select * from sync_reconciliation where not reconciles or pending > 0"')
    print(f"  open {WORK / 'report.html'}")


if __name__ == "__main__":
    main()
