"""Benchmark `sync push` against posthog-python's Client, in one run, on this machine.

For each scenario it writes N synthetic events straight into an `events` table shaped like
the dbt mart (so the benchmark measures pushing, not dbt), starts the local PostHog-
compatible endpoint in its own process, and runs each pusher as a child process, measuring
wall time (process start to exit, imports and DuckDB reads included), events the endpoint
accepted, and the child's peak RSS. sync push runs `--repeat` times (default 3) per scenario, once at 5 M, and
the median run is reported with every run's rate: single runs on this machine differ by 10-30%.
posthog-python runs once per scenario (about 30 s each).

    make bench                                   # the README's figures
    .venv/bin/python bench/push_bench.py --events 200000 --latency-ms 0 50 --rss-events 1000000 5000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / ".out"
API_KEY = "phc_bench_key"
sys.path.insert(0, str(REPO))

from sync.warehouse import ensure_schema  # noqa: E402

EVENTS_SQL = """
create or replace table main.events as
with numbered as (
    select i, md5('bench-' || i) as h from range({n}) as t(i)
)
select
    substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-5' || substr(h, 14, 3) || '-a' || substr(h, 18, 3) || '-' || substr(h, 21, 12) as uuid,
    (['$pageview', 'Viewed Item', 'Added To Cart', 'Purchase', 'Signed Up', 'Searched'])[1 + i % 6] as event,
    'user-' || (i % 50000) as distinct_id,
    false as distinct_id_is_anonymous,
    strftime(event_at, '%Y-%m-%dT%H:%M:%S.%fZ') as timestamp,
    json_object(
        '$browser', (['Chrome', 'Firefox', 'Safari'])[1 + i % 3],
        '$os', (['Mac OS X', 'Windows', 'iOS', 'Android'])[1 + i % 4],
        '$current_url', 'https://shop.example.com/item/' || (i % 977),
        '$geoip_city_name', (['Paris', 'São Paulo', 'Tōkyō', 'Zürich'])[1 + i % 4],
        '$geoip_country_code', (['FR', 'BR', 'JP', 'CH'])[1 + i % 4],
        'mp_lib', 'web',
        'amount', (i % 50000) / 100.0,
        'cart', json_object('items', json_array(json_object('sku', 'SKU-' || (i % 99), 'qty', 1 + i % 3))),
        'source_system', 'mixpanel',
        'source_event_id', 'bench-' || i
    ) as properties,
    cast(null as json) as groups,
    json_object(   -- what the events mart adds for PostHog to an event like this one: markers and $set
        'historical_migration', true, 'analytics_source', 'mixpanel',
        '$import_job_id', '3f0c2a4e-8d7b-5c1e-9a6f-2b4d8e0c1a7f', '$geoip_disable', true,
        '$set', json_object(
            '$browser', (['Chrome', 'Firefox', 'Safari'])[1 + i % 3],
            '$os', (['Mac OS X', 'Windows', 'iOS', 'Android'])[1 + i % 4],
            '$current_url', 'https://shop.example.com/item/' || (i % 977),
            '$geoip_city_name', (['Paris', 'São Paulo', 'Tōkyō', 'Zürich'])[1 + i % 4],
            '$geoip_country_code', (['FR', 'BR', 'JP', 'CH'])[1 + i % 4]
        )
    ) as posthog_properties,
    event_at,
    'mixpanel' as source_system,
    'bench-' || i as source_event_id,
    'x' as source_event_name,
    cast(1 as bigint) as load_id,
    i as line_number,
    'bench' as build_id
from (select i, h, timestamp '2024-01-01' + to_milliseconds(cast(i * 1500 as bigint)) as event_at from numbered)
"""


def make_warehouse(n: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"bench-{n}.duckdb"
    if path.exists():
        with duckdb.connect(str(path), read_only=True) as con:
            columns = {name for (name,) in con.execute("select column_name from information_schema.columns where table_name = 'events'").fetchall()}
        if not {"build_id", "posthog_properties"} <= columns:   # made by an older benchmark, before the mart had these
            path.unlink()
    if not path.exists():
        con = duckdb.connect(str(path))
        ensure_schema(con)
        con.execute(EVENTS_SQL.format(n=n))
        con.close()
    return path


def fresh_copy(path: Path) -> Path:
    """A copy with an empty ledger, so each pusher starts from nothing pending delivered."""
    copy = path.with_name(path.stem + "-run.duckdb")
    copy.unlink(missing_ok=True)
    con = duckdb.connect(str(copy))
    con.execute(f"attach '{path}' as src (read_only)")
    ensure_schema(con)
    con.execute("create table main.events as select * from src.main.events")
    con.close()
    return copy


class Endpoint:
    def __init__(self, latency_ms: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.capture", "--api-key", API_KEY, "--latency-ms", str(latency_ms)],
            cwd=REPO, stdout=subprocess.PIPE, text=True,
        )
        self.url = self.proc.stdout.readline().strip()

    def received(self) -> int:
        with urllib.request.urlopen(self.url + "/stats") as answer:
            return json.load(answer)["events"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def measure(command: list[str], endpoint: Endpoint) -> dict:
    before = endpoint.received()
    result = subprocess.run(
        [sys.executable, str(HERE / "measure.py"), *command],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "POSTHOG_API_KEY": API_KEY},
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["delivered"] = endpoint.received() - before
    figures["events_per_second"] = figures["delivered"] / figures["seconds"]
    if figures["returncode"] != 0:
        figures["stderr"] = result.stderr[-500:]
    return figures


def run_sync(warehouse: Path, endpoint: Endpoint, extra: list[str]) -> dict:
    copy = fresh_copy(warehouse)
    command = [str(Path(sys.executable).with_name("sync")), "push", "-d", "posthog", "--only", "events", "--host", endpoint.url,
               "--no-progress", "--max-events-per-second", "0", "--warehouse", str(copy), *extra]
    return measure(command, endpoint)


def run_posthog_python(warehouse: Path, endpoint: Endpoint) -> dict:
    command = [sys.executable, str(HERE / "posthog_python_push.py"), str(warehouse), endpoint.url, API_KEY]
    return measure(command, endpoint)


def run_sync_repeated(warehouse: Path, endpoint: Endpoint, extra: list[str], repeat: int) -> dict:
    """Run sync push `repeat` times (each from an empty ledger) and return the median run,
    with every run's events/s attached: single runs on this machine differ by 10-30%."""
    runs = [run_sync(warehouse, endpoint, extra) for _ in range(max(1, repeat))]
    failed = [figures for figures in runs if figures["returncode"] != 0]
    if failed:
        return failed[0]  # a failed run is shown, not hidden behind the median
    runs.sort(key=lambda figures: figures["events_per_second"])
    median = dict(runs[len(runs) // 2])
    median["all_runs"] = [figures["events_per_second"] for figures in runs]
    median["max_rss_mb"] = max(figures["max_rss_mb"] for figures in runs)
    return median


def spread(figures: dict) -> str:
    runs = figures.get("all_runs", [])
    if len(runs) < 2:
        return ""
    return f"  median of {len(runs)} runs: " + " / ".join(f"{rate:,.0f}" for rate in runs) + " events/s"


def line(name: str, figures: dict, n: int) -> str:
    note = f"  (exit {figures['returncode']}: {figures.get('stderr', '').strip().splitlines()[-1:]})" if figures["returncode"] else ""
    return (
        f"  {name:<16} {figures['delivered']:>9,} of {n:,} delivered in {figures['seconds']:7.2f} s = "
        f"{figures['events_per_second']:>9,.0f} events/s, peak RSS {figures['max_rss_mb']:6.1f} MB{note}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--latency-ms", type=float, nargs="*", default=[0.0, 50.0])
    parser.add_argument("--rss-events", type=int, nargs="*", default=[1_000_000, 5_000_000])
    parser.add_argument("--sync-args", default="", help="extra flags for sync push, e.g. '--concurrency 8'")
    parser.add_argument("--skip-posthog-python", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="sync push runs per scenario; the median is reported")
    args = parser.parse_args()
    extra = args.sync_args.split()

    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; duckdb {duckdb.__version__}")
    warehouse = make_warehouse(args.events)
    for latency in args.latency_ms:
        endpoint = Endpoint(latency)
        try:
            print(f"\n{args.events:,} events, endpoint latency {latency:g} ms")
            ours = run_sync_repeated(warehouse, endpoint, extra, args.repeat)
            print(line("sync push", ours, args.events), flush=True)
            if spread(ours):
                print(spread(ours), flush=True)
            if not args.skip_posthog_python:
                theirs = run_posthog_python(warehouse, endpoint)
                print(line("posthog-python", theirs, args.events), flush=True)
                calls = args.events / theirs["seconds"]
                print(f"  posthog-python accepted {calls:,.0f} capture() calls/s; its full queue dropped "
                      f"{args.events - theirs['delivered']:,} events")
                if theirs["events_per_second"]:
                    print(
                        f"  ratio: sync push delivers {ours['events_per_second'] / theirs['events_per_second']:.1f}x "
                        f"posthog-python's delivered events/s, {ours['events_per_second'] / calls:.1f}x its capture() calls/s"
                    )
        finally:
            endpoint.stop()

    for n in args.rss_events:
        endpoint = Endpoint(0)
        try:
            figures = run_sync_repeated(make_warehouse(n), endpoint, extra, args.repeat if n <= 1_000_000 else 1)
            print(f"\npeak RSS at {n:,} events:")
            print(line("sync push", figures, n), flush=True)
            if spread(figures):
                print(spread(figures), flush=True)
        finally:
            endpoint.stop()


if __name__ == "__main__":
    main()
