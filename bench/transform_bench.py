"""Benchmark the whole transform at scale: `sync load`, `dbt build`, a rerun with nothing new,
a +1 % load, and a full refresh, each step's seconds and peak RSS (the process tree's, dbt's
included), on N synthetic Mixpanel events.

    make bench-transform                                   # 1 M and 10 M events, the README's figures
    .venv/bin/python bench/transform_bench.py --events 1000000
    .venv/bin/python bench/transform_bench.py --events 1000000 --target spark   # after make install-spark

The export is the project's own synthetic one (tests/support/synthetic.py: duplicates, records without ids,
bad times, malformed and blank lines, Unicode, nested properties), about 420 bytes a line, in
files of ~128,000 lines. Above 1 M events the 1 M export is repeated with other $insert_ids and
distinct_ids (so every copy is new events of other people), which keeps generating 10 M fast.
Files are kept in bench/.out/transform/ between runs; every run starts from an empty warehouse.

The export's files are read once before the first step (the page cache holds them, as it holds
an export just downloaded), so `load` measures landing, not the disk. Steps, each timed from
process start to exit:
  load        sync load mixpanel FILES                    (empty warehouse)
  build       dbt build                                   (first build)
  push        sync push                                   (everything, to the local endpoint; not a target)
  no-op       sync load FILES + dbt build + sync push     (nothing new: the three commands' total)
  +1 %        sync load NEW + dbt build                   (a new file of 1 % more events)
  refresh     dbt build --full-refresh
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / ".out" / "transform"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from measure import run  # noqa: E402
from push_bench import API_KEY, Endpoint  # noqa: E402  (the local endpoint in its own process)

from tests.support.synthetic import write_mixpanel_export  # noqa: E402

BASE = 1_000_000
FILES_PER_MILLION = 8


def export(events: int) -> list[Path]:
    """The files of an export of `events` events (made once, then reused)."""
    if events < BASE:   # a smaller export of its own (e.g. for the Spark target on this machine)
        small = OUT / f"mixpanel-{events}"
        if not (small / "done").exists():
            shutil.rmtree(small, ignore_errors=True)
            write_mixpanel_export(small, events=events, files=max(1, events * FILES_PER_MILLION // BASE), seed=7)
            (small / "done").touch()
        return sorted(p for p in small.iterdir() if p.name != "done")
    base = OUT / f"mixpanel-{BASE}"
    if not (base / "done").exists():
        shutil.rmtree(base, ignore_errors=True)
        print(f"writing the {BASE:,}-event synthetic export (once) ...", flush=True)
        write_mixpanel_export(base, events=BASE, files=FILES_PER_MILLION, seed=7)
        (base / "done").touch()
    files = sorted(p for p in base.iterdir() if p.name != "done")
    if events == BASE:
        return files
    if events % BASE:
        raise SystemExit(f"--events must be below {BASE:,}, or {BASE:,} or a multiple of it")
    copies = OUT / f"mixpanel-{events}"
    if not (copies / "done").exists():
        shutil.rmtree(copies, ignore_errors=True)
        copies.mkdir(parents=True)
        for k in range(events // BASE):
            for path in files:
                _copy(path, copies / f"copy{k:03d}-{path.name}", k)
        (copies / "done").touch()
    return sorted(p for p in copies.iterdir() if p.name != "done")


def _copy(path: Path, target: Path, k: int) -> None:
    """The same export with other events: other $insert_ids and other people."""
    import gzip

    data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    if k:
        tag = f"c{k}-".encode()
        data = data.replace(b'"$insert_id": "', b'"$insert_id": "' + tag)
        data = data.replace(b'"distinct_id": "user-', b'"distinct_id": "user-' + tag)
    if path.name.endswith(".gz"):
        target.write_bytes(gzip.compress(data, compresslevel=1, mtime=0))
    else:
        target.write_bytes(data)


def new_events(events: int) -> Path:
    """A file of 1 % more events, new to the warehouse (seed 8)."""
    folder = OUT / f"new-{events // 100}"
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_mixpanel_export(folder, events=events // 100, files=1, seed=8,)
        (folder / "done").touch()
    return next(p for p in folder.iterdir() if p.name != "done")


def step(name: str, *commands: list[str], env: dict) -> dict:
    figures = {"step": name, "seconds": 0.0, "tree_rss_mb": 0.0, "commands": []}
    for command in commands:
        log = Path(env["DBT_LOG_PATH"]).with_name("step.log")
        with log.open("w") as output:
            result = run(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
        if result["returncode"] != 0:
            tail = log.read_text()[-3000:]
            raise SystemExit(f"{name}: {' '.join(command[:3])} failed with exit code {result['returncode']}:\n{tail}")
        figures["seconds"] += result["seconds"]
        figures["tree_rss_mb"] = max(figures["tree_rss_mb"], result["tree_rss_mb"])
        figures["commands"].append({"command": " ".join(Path(command[0]).name.split() + command[1:3]), **result})
    print(f"  {name:<8} {figures['seconds']:7.2f} s   peak RSS {figures['tree_rss_mb']:7.0f} MB"
          + ("   (" + ", ".join(f"{c['command']} {c['seconds']:.2f} s" for c in figures["commands"]) + ")"
             if len(commands) > 1 else ""), flush=True)
    return figures


def warm(paths: list[str]) -> None:
    """Read the files once, so that the load step measures landing them, not the disk (an export
    just downloaded or copied is in the page cache too)."""
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(1 << 24):
                pass


def bench(events: int, keep: bool = False, target: str = "dev") -> list[dict]:
    files = [str(p) for p in export(events)]
    extra = str(new_events(events))
    warm([*files, extra])
    folder = OUT / f"warehouse-{events}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    warehouse = folder / "warehouse.duckdb"
    env = {
        **os.environ, "WAREHOUSE_PATH": str(warehouse), "POSTHOG_API_KEY": API_KEY,
        "DBT_TARGET_PATH": str(folder / "target"), "DBT_LOG_PATH": str(folder / "logs"),
    }
    on = ["--target", target]
    sync, dbt = str(BIN / "sync"), str(BIN / "dbt")
    load, build = [sync, "load", *on, "mixpanel"], [dbt, "build", *on]
    endpoint = Endpoint(latency_ms=0)
    push = [sync, "push", *on, "-d", "posthog", "--host", endpoint.url, "--no-progress", "--max-events-per-second", "0"]
    print(f"{events:,} events ({len(files)} files), target {target}:", flush=True)
    try:
        steps = [
            step("load", [*load, *files], env=env),
            step("build", build, env=env),
            step("push", push, env=env),
            step("no-op", [*load, *files], build, push, env=env),
            step("+1 %", [*load, extra], build, env=env),
            step("refresh", [*build, "--full-refresh"], env=env),
        ]
        delivered = endpoint.received()
    finally:
        endpoint.stop()
    print(f"  delivered {delivered:,} events; warehouse {warehouse.stat().st_size / 1e9:.2f} GB", flush=True)
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the warehouse (bench/.out/transform/warehouse-N/)")
    parser.add_argument("--target", choices=["dev", "spark"], default="dev",
                        help="dbt target: dev (DuckDB) or spark (local Spark session; make install-spark)")
    args = parser.parse_args()
    results = {n: bench(n, args.keep, args.target) for n in args.events}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
