"""The `sync` command line. Parsing and printing only: the work is in load, push, status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import duckdb
import typer
from rich.console import Console
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
)
from rich.text import Text

from sync import spark as spark_engine
from sync import build_state, streams
from sync import load as loading
from sync import push as pushing
from sync import status as statusing
from sync.config import PushOptions, warehouse_path
from sync.errors import SyncError, UsageError
from sync.progress_file import PushProgress, running_push
from sync.destinations import DESTINATIONS, Settings, build, for_stream
from sync.destinations.posthog import PostHog
from sync.destinations.segment import REGIONS as SEGMENT_REGIONS
from sync.destinations.segment import Segment
from sync.sources import SOURCES
from sync.progress_file import describe as describe_push
from sync.warehouse import WarehouseError, connect, open_warehouse, require_warehouse

app = typer.Typer(
    help="Land historical analytics exports in DuckDB and push the dbt `events` mart to PostHog.\n\n"
    "The flow: `sync load mixpanel FILES...` (or amplitude, segment, ga4, `table NAME`), then `dbt build`, "
    "then `sync push --destination posthog`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

WarehouseOption = Annotated[
    Optional[Path],
    typer.Option("--warehouse", help="DuckDB file (default: $WAREHOUSE_PATH, else ./warehouse.duckdb).", show_default=False),
]

# dbt's targets (profiles.yml): `dev` is DuckDB, `spark` keeps raw tables and models in Spark.
Target = Enum("Target", {"dev": "dev", "spark": "spark"}, type=str)
TargetOption = Annotated[
    Target,
    typer.Option("--target", help="dbt target the models are built on: dev (DuckDB) or spark (Spark's tables; the ledger stays in the DuckDB file)."),
]

# The sources of sync.sources, and `table` for any other file.
Source = Enum("Source", {name: name for name in [*SOURCES, "table"]}, type=str)


DestinationName = Enum("DestinationName", {name: name for name in DESTINATIONS}, type=str)
Region = Enum("Region", {name: name for name in SEGMENT_REGIONS}, type=str)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Turn every error a user can cause into one line on stderr and a non-zero exit."""
    try:
        yield
    except SyncError as exc:
        err.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        err.print(f"error: warehouse: {first}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except OSError as exc:   # a file or folder we were told to read or write
        where = f" {exc.filename}" if exc.filename else ""
        err.print(f"error:{where}: {exc.strerror or exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted: what finished is saved (loads, checkpoints, the ledger); rerun to resume", highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None


@app.command("load")
def load_command(
    source: Annotated[Source, typer.Argument(help="Which tool the export comes from, or `table NAME` for any other file.")],
    paths: Annotated[
        list[str],
        typer.Argument(help="Files, globs or directories (.jsonl, .json, .gz, .zip, .parquet, .csv); after `table`, the NAME first."),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Land files even when their first records look like another source's export.")
    ] = False,
    warehouse: WarehouseOption = None,
    target: TargetOption = Target.dev,
) -> None:
    """Land raw export files in the warehouse's `raw` schema.

    Sources: mixpanel, mixpanel-profiles (Engage user profiles: a JSON array, JSON lines, or
    whole Engage answers), amplitude (the export zip, or its .json.gz files), segment (archived
    .gz files), ga4 (NDJSON or Parquet), or `table NAME` to land any CSV, JSON-lines or
    Parquet file as raw.NAME for a staging model of your own.

    Every record is kept as it came, with its file, line number, load id and load time.
    A file whose content was landed before is skipped, so rerunning is safe. Blank or
    malformed lines are kept in `raw.load_errors` and counted, and do not stop the load.
    """
    with _one_line_errors():
        table = None
        source_system = source.value
        if source is Source.table:
            if len(paths) < 2:
                raise UsageError("usage: sync load table NAME PATH... (NAME becomes raw.NAME)")
            table = source_system = loading.table_name(paths[0])
            paths = paths[1:]
        files = loading.discover(paths)
        landed = skipped = records = bad_lines = 0
        unreadable: list[str] = []
        for path in files:
            if path.stat().st_size == 0:
                err.print(f"warning  {path} is empty: nothing in it to land", highlight=False)
        where = warehouse_path(warehouse and str(warehouse))
        with (spark_engine.landing(where) if target is Target.spark else open_warehouse(where)) as con:
            if not force and source is not Source.table:
                landed_before = loading.unchanged_loads(con, source_system, files)
                for path in list(files):
                    if landed_before[path] is not None:
                        continue   # landed before and unchanged: skipped without reading it
                    shape = loading.shape_of(source_system, path)
                    if shape is not None and shape.looks_like is not None:
                        files.remove(path)
                        unreadable.append(str(path))
                        err.print(
                            f"error    {path} looks like {'an' if shape.looks_like[0] in 'aeiou' else 'a'} {shape.looks_like} export, not {source_system} (its first "
                            f"{_count(shape.records, 'record')}): `sync load {shape.looks_like} {path}`, or --force to land it as {source_system}",
                            highlight=False,
                        )
            for result in loading.load_paths(con, source_system, files, table):
                path = result.path
                if result.error is not None:
                    unreadable.append(path)
                    err.print(f"error    {result.error}", highlight=False)
                    continue
                if result.already_loaded_as is not None:
                    skipped += 1
                    out.print(f"skipped  {path}: same content already landed as load {result.already_loaded_as}", highlight=False)
                    continue
                landed += 1
                records += result.records
                bad_lines += result.bad_lines
                out.print(
                    f"loaded   {path}: {_count(result.records, 'record')}, {_count(result.bad_lines, 'bad line')} (load {result.load_id})",
                    highlight=False,
                )
        out.print(
            f"{_count(landed, 'file')} landed, {skipped} skipped as already loaded"
            + (f", {len(unreadable)} not loaded" if unreadable else "")
            + f": {_count(records, 'record')}, {_count(bad_lines, 'bad line')} kept in raw.load_errors",
            highlight=False,
        )
        if unreadable:
            raise SyncError(
                f"{_count(len(unreadable), 'file')} not loaded ({', '.join(unreadable)}); "
                "the others are landed: fix or remove those and run the same command again"
            )


def _attach(dbt_target: Target, path: Path) -> None:
    """With --target spark, the state file is pointed at Spark's tables before it is read."""
    if dbt_target is Target.spark:
        spark_engine.attach(path)


def _count(n: int, noun: str) -> str:
    """`1 file`, `2 files`, `1,000 records`."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _each(attribute: str, values: bool = True) -> str:
    """For a flag's help: the destinations that set `attribute`, with their values."""
    chosen = [d for d in DESTINATIONS.values() if getattr(d, attribute)]
    if not values:
        return ", ".join(d.label for d in chosen)
    return ", ".join(f"{getattr(d, attribute):g} for {d.label}" for d in chosen)


class _RateColumn(ProgressColumn):
    def __init__(self, noun: str = "events") -> None:
        super().__init__()
        self.noun = noun

    def render(self, task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        speed = task.completed / elapsed if elapsed else 0
        return Text(f"{speed:,.0f} {self.noun}/s")


@app.command("push")
def push_command(
    destination: Annotated[DestinationName, typer.Option("--destination", "-d", help="Where to send events.")],
    host: Annotated[
        Optional[str],
        typer.Option(help=f"Destination URL (default: ${PostHog.host_env}, or ${Segment.host_env} else Segment's US or --region host).", show_default=False),
    ] = None,
    api_key: Annotated[
        Optional[str],
        typer.Option(help=f"PostHog project API key (default: ${PostHog.key_env}; prefer the variable).", show_default=False),
    ] = None,
    write_key: Annotated[
        Optional[str],
        typer.Option(help=f"Segment write key (default: ${Segment.key_env}; prefer the variable).", show_default=False),
    ] = None,
    region: Annotated[
        Optional[Region], typer.Option(help="Segment region: " + ", ".join(f"{name} ({host.split('//')[1]})" for name, host in SEGMENT_REGIONS.items()) + ".")
    ] = None,
    integrations: Annotated[
        Optional[str],
        typer.Option(help='Segment `integrations` object sent with every batch, e.g. \'{"All": false, "Mixpanel": true}\'.', show_default=False),
    ] = None,
    batch_size: Annotated[
        Optional[int], typer.Option(min=1, help=f"Events per request (default {_each('default_batch_size')}; requests are also cut by size).", show_default=False)
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight at once.")] = 4,
    max_events_per_second: Annotated[
        Optional[float],
        typer.Option(min=0, help=f"Cap on events sent per second, all requests together (default {_each('default_events_per_second')}; 0: no cap).", show_default=False),
    ] = None,
    max_requests_per_minute: Annotated[
        Optional[float], typer.Option(min=0.001, help="Cap on requests per minute (all requests together).")
    ] = None,
    split_by_day: Annotated[
        Optional[bool], typer.Option(help=f"Keep each batch within one UTC day (default: on for {_each('default_split_by_day', values=False)}).", show_default=False)
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option(help="Send again the events the destination refused before (sync.failed_events).")
    ] = False,
    max_retry_seconds: Annotated[
        float, typer.Option(min=0, help="Give up on one request after retrying this long; state is saved.")
    ] = 600.0,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for one answer.")] = 30.0,
    rescan: Annotated[
        bool, typer.Option("--rescan", help="Look at every load of the mart row by row, settled ones too (not needed: pending is exact without it).")
    ] = False,
    only: Annotated[
        Optional[str],
        typer.Option(
            "--only",
            help="Send only these streams, comma-separated: " + ", ".join(streams.BY_NAME)
            + " (default: all four, in that order: persons, identity links, groups, then events). Each has its own ledger.",
            show_default=False,
        ),
    ] = None,
    persons: Annotated[bool, typer.Option("--persons", help="Same as --only persons.")] = False,
    identities: Annotated[bool, typer.Option("--identities", help="Same as --only identities.")] = False,
    set_once: Annotated[
        Optional[bool], typer.Option("--set-once/--set", help=f"{_each('set_once', values=False)} persons: {PostHog.set_once}.", show_default=False)
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check what would be sent and write the first request bodies to a folder; send nothing.")
    ] = False,
    dry_run_dir: Annotated[
        Optional[Path], typer.Option(help="Folder for --dry-run request bodies (default ./dry-run/DESTINATION).", show_default=False)
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    force: Annotated[
        bool, typer.Option("--force", help="Push even though the last dbt build failed tests on a mart that is sent.")
    ] = False,
    allow_recent: Annotated[
        bool, typer.Option("--allow-recent", help=f"Send recent (and future-dated) events too; held back by default for {_each('holds_recent', values=False)} (newer than {PostHog.holds_recent.total_seconds() / 3600:g} h).")
    ] = False,
    warehouse: WarehouseOption = None,
    dbt_target: TargetOption = Target.dev,
) -> None:
    """Send what the destination has not received yet, oldest first, in batches: persons, identity
    links, groups, then events (--only chooses), each a ledger stream of its own.

    Each accepted batch is written to the ledger (sync.batches, sync.deliveries) in one
    transaction, so a rerun or a resume after a crash sends only what is missing: every row of
    the marts that the destination has neither accepted nor refused, whatever changed in them
    since. Exits 0 only if every pending row was accepted.
    """
    with _one_line_errors():
        if persons or identities:
            if only is not None or (persons and identities):
                raise UsageError("--persons and --identities are short for --only persons / --only identities: give one of them")
            only = "persons" if persons else "identities"
        chosen = streams.chosen(only)
        target = build(destination.value, Settings(host, api_key, write_key, region and region.value, integrations))
        options = PushOptions(
            batch_size=batch_size,
            concurrency=concurrency,
            max_retry_seconds=max_retry_seconds,
            timeout_seconds=timeout,
            max_events_per_second=_events_per_second(max_events_per_second, target),
            max_requests_per_minute=max_requests_per_minute,
            split_by_day=target.default_split_by_day if split_by_day is None else split_by_day,
            retry_failed=retry_failed,
            set_once=_set_once(set_once, target, streams.PERSONS in chosen),
            rescan=rescan,
            allow_recent=allow_recent,
        )
        path = warehouse_path(warehouse and str(warehouse))
        _attach(dbt_target, path)
        require_warehouse(path)
        if dry_run:
            _dry_run(target, options, chosen, dry_run_dir, warehouse, force)
            return
        refused: list[tuple[str, str]] = []   # (what was refused, run id)
        with open_warehouse(path) as con:
            unbuilt = _check_build(con, force)
            announced = False
            for stream in chosen:
                if not pushing.has_mart(con, stream, target) and only is None:
                    # a warehouse built before this stream's mart existed: the others still go
                    err.print(f"{stream.ledger_name(target.name)}: no `{stream.mart_for(target)}` mart yet (run dbt build): skipped", highlight=False)
                    continue
                summary, announced = _push_stream(con, path, target, replace(options, stream=stream.name), stream, progress, announced)
                if summary.failed:
                    refused.append((f"{summary.failed} {stream.noun} ({summary.destination})", summary.run_id))
        if refused:
            runs = ", ".join(f"'{run_id}'" for _, run_id in refused)
            raise SyncError(
                f"{' and '.join(what for what, _ in refused)} were refused by {destination.value}; see "
                f"`select * from sync.failed_events where run_id in ({runs})`"
            )
        _refuse_unbuilt(unbuilt)


def _push_stream(con: duckdb.DuckDBPyConnection, path: Path, target, options: PushOptions, stream: streams.Stream,
                 progress: bool, announced: bool):
    """One stream's push, with its bar and its lines; returns its summary and whether the pace was announced."""
    bar = Progress(
        TextColumn("pushing to {task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(stream.noun),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=err, disable=not progress, transient=False,
    )
    name = stream.ledger_name(target.name)
    shared = PushProgress(path, name, stream.noun)
    tasks: list = []

    def started(total: int) -> None:
        """The bar appears once there is something to send."""
        nonlocal announced
        if not announced:
            _announce_pace(options, target)
            announced = True
        tasks.append(bar.add_task(name, total=total))
        shared.start(total)

    def advanced(n: int) -> None:
        bar.advance(tasks[0], n)
        shared.advance(n)

    try:
        with bar:
            summary = pushing.push(
                con, target, options, on_start=started, on_progress=advanced,
                on_retry=lambda line: err.print(line, highlight=False),
            )
    finally:
        shared.close()
    if summary.held:
        out.print(f"{summary.destination}: {_held_line(summary.held, target)}", highlight=False)
    if summary.pending == 0:
        if options.retry_failed:
            what = f"no refused {stream.noun} to retry"
        elif summary.held:
            what = "nothing else pending"
        elif con.execute(f"select count(*) from {stream.table} as e").fetchone()[0] == 0:
            what = f"nothing to send, the {stream.mart} mart has no {stream.noun}" + (" with properties" if stream is streams.PERSONS else "")
        else:
            what = f"nothing pending, every {stream.singular} in the {stream.mart} mart was already delivered"
        out.print(f"{summary.destination}: {what}", highlight=False)
        return summary, announced
    out.print(
        f"{summary.destination}: {summary.delivered} {stream.noun} delivered in {summary.batches} requests, "
        f"{summary.failed} failed, {summary.pending - summary.delivered - summary.failed} left pending",
        highlight=False,
    )
    return summary, announced


def _set_once(given: bool | None, target, persons: bool) -> bool:
    """--set-once/--set choose how a destination applies person properties, where it has a choice."""
    if given is not None and (target.set_once is None or not persons):
        takers = " or ".join(f"-d {d.name}" for d in DESTINATIONS.values() if d.set_once)
        why = "" if target.set_once else f" ({target.label} has no such choice for persons)"
        raise UsageError(f"--set-once and --set are for `{takers}` pushing persons{why}")
    return True if given is None else given


def _held_line(held: int, target) -> str:
    hours = target.holds_recent.total_seconds() / 3600
    return (
        f"{_count(held, 'event')} newer than {hours:g} hours or dated in the future held back (not sent, not failed): "
        f"{target.holds_recent_why}; --allow-recent sends them"
    )


def _events_per_second(given: float | None, target) -> float | None:
    """The events/s cap: as given (0: none), else the destination's default."""
    if given is None:
        return target.default_events_per_second
    return given or None


def _announce_pace(options: PushOptions, target) -> None:
    """At the start of a push: how fast it may go, and how to change that."""
    if options.max_events_per_second:
        guidance = f" ({target.pace_guidance})" if options.max_events_per_second == target.default_events_per_second else ""
        err.print(
            f"pace: at most {options.max_events_per_second:,.0f} events/s{guidance}; "
            "change it with --max-events-per-second N (0: no cap)",
            highlight=False,
        )


def _check_build(con: duckdb.DuckDBPyConnection, force: bool) -> list[build_state.UnbuiltLoad]:
    """Before a push: the loads not built yet (each said in one line), and a stop if the last
    dbt build failed tests on the marts that are sent (unless --force)."""
    unbuilt = build_state.unbuilt_loads(con)
    problems = build_state.failed_checks(con)
    for load in unbuilt:
        err.print(load.describe(), highlight=False)
    if problems and not force:
        raise SyncError(
            "the last dbt build failed on what would be sent: " + "; ".join(problems)
            + ". Fix it and run dbt build again, or push anyway with --force"
        )
    for problem in problems:
        err.print(f"last dbt build: {problem} (pushing anyway: --force)", highlight=False)
    return unbuilt


def _refuse_unbuilt(unbuilt: list[build_state.UnbuiltLoad]) -> None:
    """A push is not the end of a migration while landed loads are not in the marts."""
    if unbuilt:
        raise SyncError(
            f"{len(unbuilt)} landed {'load is' if len(unbuilt) == 1 else 'loads are'} not in the marts yet "
            f"(load {', '.join(str(load.load_id) for load in unbuilt)}): run dbt build, then sync push again"
        )


def _dry_run(target, options: PushOptions, chosen: tuple[streams.Stream, ...], folder: Path | None,
             warehouse: Path | None, force: bool) -> None:
    from sync.dryrun import dry_run

    problems = 0
    with connect(warehouse_path(warehouse and str(warehouse)), read_only=True) as con:
        unbuilt = _check_build(con, force)
        for stream in chosen:
            if not pushing.has_mart(con, stream, target) and len(chosen) > 1:
                err.print(f"{stream.ledger_name(target.name)}: no `{stream.mart_for(target)}` mart yet (run dbt build): skipped", highlight=False)
                continue
            where = folder or Path("dry-run") / (target.name + (f"-{stream.name}" if stream.suffix else ""))
            if folder is not None and len(chosen) > 1:
                where = folder / stream.name
            report = dry_run(con, target, replace(options, stream=stream.name), where)
            noun = stream.noun
            out.print(
                f"{report.stream} (dry run, nothing sent): {report.pending} {noun} pending would go in {report.requests} requests "
                f"({report.body_bytes:,} bytes of JSON before compression)",
                highlight=False,
            )
            if report.held:
                out.print(f"  {_held_line(report.held, target)}", highlight=False)
            if report.written:
                out.print(f"  first {len(report.written)} request bodies written to {report.written[0].parent}/", highlight=False)
            for problem in report.problems.values():
                out.print(f"  problem: {problem.count} {noun} {problem.kind} (e.g. {', '.join(problem.examples)})", highlight=False)
            problems += sum(p.count for p in report.problems.values())
            if not report.problems:
                out.print("  no problems found", highlight=False)
    if problems:
        raise SyncError(f"dry run found {problems} problems; nothing was sent")
    _refuse_unbuilt(unbuilt)


@app.command("sql")
def sql_command(
    query: Annotated[str, typer.Argument(help="One SQL query, e.g. \"select * from sync_reconciliation\".")],
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (with a header) instead of a table.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Rows shown at most (the query itself is not changed).")] = 1000,
    warehouse: WarehouseOption = None,
    dbt_target: TargetOption = Target.dev,
) -> None:
    """Run a read-only SQL query against the warehouse and print the result: the audit
    queries of the README, without installing the DuckDB CLI (dbt show --inline works too)."""
    import csv
    import sys

    from rich.table import Table

    with _one_line_errors():
        path = warehouse_path(warehouse and str(warehouse))
        _attach(dbt_target, path)
        with connect(path, read_only=True) as con:
            cursor = con.execute(query)
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchmany(limit + 1)
        if as_csv:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows[:limit])
        else:
            table = Table(*columns, show_lines=False)
            cells = [["" if value is None else str(value) for value in row] for row in rows[:limit]]
            for row in cells:
                table.add_row(*row)
            # as wide as its content (rich would squeeze it to 80 columns when piped)
            widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
            Console(width=max(out.width, sum(w + 3 for w in widths) + 1)).print(table)
        if len(rows) > limit:
            err.print(f"(first {limit:,} rows shown: --limit N for more)", highlight=False)


@app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    warehouse: WarehouseOption = None,
    dbt_target: TargetOption = Target.dev,
) -> None:
    """Per destination: events pending, delivered and failed (top reasons), the watermark, and the last runs."""
    with _one_line_errors():
        path = warehouse_path(warehouse and str(warehouse))
        try:
            _attach(dbt_target, path)
            con = connect(path, read_only=True)
        except WarehouseError:
            running = running_push(path)
            if running is None:
                raise
            if as_json:
                out.print_json(json.dumps({"running_push": running}, default=str))
            else:
                out.print(describe_push(running), highlight=False)
                out.print("  (the warehouse is locked while it runs: the full status comes when it ends)", highlight=False)
            return
        with con:
            report = statusing.collect(con)
        if as_json:
            out.print_json(json.dumps(report, default=str))
            return
        in_mart = report["events_in_mart"]
        out.print(f"events in mart: {'not built yet (run dbt build)' if in_mart is None else f'{in_mart:,}'}", highlight=False)
        for load in report["unbuilt_loads"]:
            out.print(build_state.UnbuiltLoad(**load).describe(), highlight=False)
        for problem in report["last_build_problems"]:
            out.print(f"last dbt build: {problem}", highlight=False)
        for entry in report["destinations"]:
            mark, run = entry["watermark"], entry["last_run"]
            pending = "-" if entry["pending"] is None else f"{entry['pending']:,}"
            out.print(
                f"{entry['destination']}: {pending} pending, {entry['delivered']:,} delivered, {entry['failed']:,} failed"
                + (f", {entry['held']:,} held back" if entry["held"] else ""),
                highlight=False,
            )
            if entry["held"]:
                out.print(f"  held: {_held_line(entry['held'], for_stream(entry['destination']))}", highlight=False)
            if mark:
                out.print(
                    f"  settled: {mark['settled_loads']:,} of {mark['loads']:,} loads; newest event sent "
                    f"{mark['last_event_at'] or '-'}; updated {mark['updated_at']}",
                    highlight=False,
                )
            for failure in entry["failed_reasons"]:
                status = f" (HTTP {failure['http_status']})" if failure["http_status"] else ""
                out.print(f"  failed: {failure['events']:,} {failure['reason']}{status}", highlight=False)
            for number, run in enumerate(entry["runs"]):
                out.print(
                    f"  {'last run' if number == 0 else 'run     '} {run['run_id']}{' [--retry-failed]' if run['retry_failed'] else ''}: "
                    f"{run['outcome']}, {run['started_at']} -> {run['finished_at'] or '...'}, "
                    f"{run['delivered']:,} of {run['pending']:,} delivered, {run['failed']:,} failed, {run['batches']:,} requests"
                    + (f" ({run['message']})" if run["message"] else ""),
                    highlight=False,
                )
            if run is None:
                out.print("  never pushed", highlight=False)
        for extract in report["extracts"]:
            out.print(
                f"extract {extract['source']}: {extract['windows']:,} windows checkpointed "
                f"({extract['first_window']} .. {extract['last_window']}), {extract['records']:,} records, "
                f"{extract['bad_lines']:,} bad lines, {extract['empty_windows']:,} empty; last {extract['last_extracted_at']}",
                highlight=False,
            )


extract_app = typer.Typer(
    help="Fetch raw exports from a source's API, window by window, with checkpoints in the warehouse.",
    no_args_is_help=True,
)
app.add_typer(extract_app, name="extract")

ExtractFolder = Annotated[
    Optional[Path], typer.Option("--out-dir", help="Where to keep each window's raw response (default ./exports/SOURCE).", show_default=False)
]


def _run_extract(source: str, plan, folder: Path | None, warehouse: Path | None, requests_per_hour: float | None, force: bool) -> None:
    from sync import extract as extracting

    windows = plan.windows
    done = landed = empty = records = bad = 0

    def page_landed(page: extracting.PageResult) -> None:
        what = (f"same content already landed as load {page.already_loaded_as}" if page.already_loaded_as
                else f"{page.records} records, {page.bad_lines} bad lines (load {page.load_id})")
        out.print(f"page     {source} {page.window.label} page {page.number}: {what} -> {page.path}", highlight=False)

    with open_warehouse(warehouse_path(warehouse and str(warehouse))) as con:
        extractor = extracting.Extractor(
            con, SOURCES[source], folder or Path("exports") / source,
            requests_per_hour=requests_per_hour or SOURCES[source].export.requests_per_hour, force=force,
            on_page=page_landed,
        )
        try:
            for result in extractor.run(plan):
                done += 1
                if result.skipped:
                    out.print(f"skipped  {source} {result.window.label}: checkpointed before", highlight=False)
                elif result.empty:
                    empty += 1
                    out.print(f"empty    {source} {result.window.label}: no data", highlight=False)
                else:
                    landed += 1
                    records += result.records
                    bad += result.bad_lines
                    pages = f" in {_count(result.pages, 'page')}, checkpointed" if result.pages else f" -> {result.path}"
                    out.print(
                        f"landed   {source} {result.window.label}: {result.records} records, {result.bad_lines} bad lines{pages}",
                        highlight=False,
                    )
        except extracting.ExtractError:
            out.print(f"{source}: stopped after {done} of {len(windows)} windows", highlight=False)
            raise
    out.print(
        f"{source}: {_count(len(windows), 'window')}: {landed} landed ({records} records, {bad} bad lines), {empty} empty, "
        f"{len(windows) - landed - empty} already checkpointed",
        highlight=False,
    )


@extract_app.command("mixpanel")
def extract_mixpanel(
    from_date: Annotated[Optional[str], typer.Option("--from", help="First day, YYYY-MM-DD (inclusive).", show_default=False)] = None,
    to_date: Annotated[Optional[str], typer.Option("--to", help="Last day, YYYY-MM-DD (inclusive).", show_default=False)] = None,
    event: Annotated[Optional[list[str]], typer.Option("--event", help="Only these event names (repeatable).")] = None,
    profiles: Annotated[
        bool, typer.Option("--profiles", help="Fetch every user profile (Engage API) as today's snapshot, page by page, instead of events.")
    ] = False,
    api_host: Annotated[
        Optional[str],
        typer.Option(help="API host (default https://data.mixpanel.com; with --profiles https://mixpanel.com).", show_default=False),
    ] = None,
    region: Annotated[Optional[str], typer.Option(help="us, eu or in: picks the data residency host.")] = None,
    max_requests_per_hour: Annotated[
        Optional[float], typer.Option(min=0.01, help="Requests per hour at most (default 60: Mixpanel allows 60 export queries an hour, and 60 profile queries).", show_default=False)
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Fetch checkpointed windows (or today's profile snapshot) again.")] = False,
    out_dir: ExtractFolder = None,
    warehouse: WarehouseOption = None,
) -> None:
    """One request per day from --from to --to with $MIXPANEL_SERVICE_ACCOUNT (user:secret) and
    $MIXPANEL_PROJECT_ID; each day's response is stored gzipped and landed like `sync load mixpanel`.
    With --profiles: every user profile, page by page, each page stored gzipped and landed like
    `sync load mixpanel-profiles`, the day's snapshot checkpointed after its last page."""
    from sync.extract import parse_day
    from sync.sources import mixpanel, mixpanel_profiles

    with _one_line_errors():
        if profiles:
            if from_date or to_date or event:
                raise UsageError("--profiles fetches every profile as it is now: it takes no --from, --to or --event")
            plan = mixpanel_profiles.export_plan(mixpanel_profiles.SOURCE.export.host(api_host, region))
            _run_extract(mixpanel_profiles.SOURCE.name, plan, out_dir, warehouse, max_requests_per_hour, force)
            return
        if not from_date or not to_date:
            raise UsageError("give --from and --to (days, YYYY-MM-DD), or --profiles for user profiles")
        first, last = parse_day(from_date, "--from"), parse_day(to_date, "--to")
        plan = mixpanel.export_plan(first, last, mixpanel.SOURCE.export.host(api_host, region), event)
        _run_extract("mixpanel", plan, out_dir, warehouse, max_requests_per_hour, force)


@extract_app.command("amplitude")
def extract_amplitude(
    from_hour: Annotated[str, typer.Option("--from", help="First hour, YYYYMMDDTHH (inclusive).")],
    to_hour: Annotated[str, typer.Option("--to", help="Last hour, YYYYMMDDTHH (inclusive).")],
    hourly: Annotated[bool, typer.Option("--hourly/--daily", help="One request per hour, or per day (default).")] = False,
    api_host: Annotated[Optional[str], typer.Option(help="Export API host (default https://amplitude.com).", show_default=False)] = None,
    region: Annotated[Optional[str], typer.Option(help="us or eu: picks the data residency host.")] = None,
    max_requests_per_hour: Annotated[
        Optional[float], typer.Option(min=0.01, help="Requests per hour at most (default 360).", show_default=False)
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Fetch checkpointed windows again.")] = False,
    out_dir: ExtractFolder = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Hourly or daily windows from --from to --to with $AMPLITUDE_API_KEY and $AMPLITUDE_SECRET_KEY;
    each window's zip is stored and landed like `sync load amplitude`; a 404 is an empty window."""
    from sync.extract import parse_hour
    from sync.sources import amplitude

    with _one_line_errors():
        first, last = parse_hour(from_hour, "--from"), parse_hour(to_hour, "--to")
        plan = amplitude.export_plan(first, last, amplitude.SOURCE.export.host(api_host, region), hourly)
        _run_extract("amplitude", plan, out_dir, warehouse, max_requests_per_hour, force)


@app.command("report")
def report_command(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the HTML page.")] = Path("backfill-report.html"),
    open_it: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
    warehouse: WarehouseOption = None,
    dbt_target: TargetOption = Target.dev,
) -> None:
    """Write a self-contained HTML audit page: events per day per source (raw vs delivered),
    rejected and failed by reason, push throughput, and days that do not reconcile."""
    from sync import report as reporting

    with _one_line_errors():
        path = warehouse_path(warehouse and str(warehouse))
        _attach(dbt_target, path)
        with connect(path, read_only=True) as con:
            page = reporting.render(reporting.collect(con))
        out_path.write_text(page, encoding="utf-8")
        out.print(f"report written to {out_path}", highlight=False)
        if open_it:
            import webbrowser

            webbrowser.open(out_path.resolve().as_uri())


def main() -> None:
    app()
