"""`sync load`: raw landing, bad lines kept, idempotent reloads, clear errors."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import textwrap

from tests.support.helpers import FIXTURES, query as rows, with_module

SMALL = FIXTURES / "mixpanel_small.jsonl"


def test_load_keeps_every_line_with_file_line_and_load(cli, warehouse):
    result = cli("load", "mixpanel", str(SMALL))
    assert result.exit_code == 0, result.output
    assert "12 records, 3 bad lines" in result.output

    landed = rows(warehouse, "select load_id, line_number, file_path, loaded_at is not null from raw.mixpanel_events order by line_number")
    assert [r[1] for r in landed] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15]
    assert {r[0] for r in landed} == {1} and {r[2] for r in landed} == {str(SMALL)} and all(r[3] for r in landed)

    bad = rows(warehouse, "select line_number, error, line from raw.load_errors order by line_number")
    assert [(n, e.split(":")[0]) for n, e, _ in bad] == [(10, "invalid JSON"), (11, "not a JSON object (got list)"), (12, "blank line")]
    assert bad[0][2].startswith('{"event":"Truncated"')

    loads = rows(warehouse, "select source_system, records, bad_lines, length(content_sha256) from raw.loads")
    assert loads == [("mixpanel", 12, 3, 64)]


def test_reloading_same_content_is_a_no_op_even_under_another_name(cli, warehouse, tmp_path):
    copy = tmp_path / "renamed.jsonl"
    shutil.copy(SMALL, copy)
    assert cli("load", "mixpanel", str(SMALL)).exit_code == 0
    again = cli("load", "mixpanel", str(SMALL), str(copy))
    assert again.exit_code == 0
    assert again.output.count("already landed as load 1") == 2
    assert rows(warehouse, "select count(*) from raw.mixpanel_events") == [(12,)]
    assert rows(warehouse, "select count(*) from raw.load_errors") == [(3,)]


def test_gzip_directories_globs_and_json_arrays(cli, warehouse, tmp_path):
    exports = tmp_path / "exports" / "2020"
    exports.mkdir(parents=True)
    (exports / "day1.jsonl.gz").write_bytes(gzip.compress(SMALL.read_bytes()))
    (exports / "day2.json").write_text(
        '[{"event":"a","properties":{"time":1602611311,"distinct_id":"x"}}, 5]', encoding="utf-8"
    )
    (exports / "notes.txt").write_text("not an export")
    result = cli("load", "mixpanel", str(tmp_path / "exports"))
    assert result.exit_code == 0, result.output
    assert "2 files landed" in result.output
    assert rows(warehouse, "select count(*) from raw.mixpanel_events") == [(13,)]
    assert rows(warehouse, "select error from raw.load_errors where file_path like '%day2.json'") == [
        ("not a JSON object (got int)",)
    ]
    glob_result = cli("load", "mixpanel", str(tmp_path / "exports" / "*" / "*.gz"))
    assert "already landed" in glob_result.output


def test_missing_path_is_one_line_error_and_loads_nothing(cli, warehouse, tmp_path):
    result = cli("load", "mixpanel", str(SMALL), str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: no such file or directory: {tmp_path / 'nope.jsonl'}"]
    assert not warehouse.exists()


def test_truncated_gzip_is_rolled_back_with_a_clear_error(cli, warehouse, tmp_path):
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(SMALL.read_bytes() * 50)[:-200])
    result = cli("load", "mixpanel", str(broken))
    assert result.exit_code == 1
    assert "cannot read" in result.output and "nothing from this file was loaded" in result.output
    assert "Traceback" not in result.output
    assert rows(warehouse, "select count(*) from raw.mixpanel_events") == [(0,)]
    assert rows(warehouse, "select count(*) from raw.loads") == [(0,)]


def test_an_unreadable_file_among_others_does_not_stop_the_rest(cli, warehouse, tmp_path):
    first, last = tmp_path / "a.jsonl", tmp_path / "c.jsonl"
    first.write_bytes(SMALL.read_bytes())
    last.write_bytes(SMALL.read_bytes().replace(b"ins-00", b"other-ins-00"))
    broken = tmp_path / "b.jsonl.gz"
    broken.write_bytes(gzip.compress(SMALL.read_bytes() * 50)[:-200])
    result = cli("load", "mixpanel", str(first), str(broken), str(last))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert sum(line.startswith("error    cannot read") and str(broken) in line for line in lines) == 1
    assert "2 files landed, 0 skipped as already loaded, 1 not loaded: 24 records, 6 bad lines" in result.output
    assert lines[-1] == f"error: 1 file not loaded ({broken}); the others are landed: fix or remove those and run the same command again"
    assert rows(warehouse, "select file_path from raw.loads order by load_id") == [(str(first),), (str(last),)]


def test_a_zip_with_one_corrupt_member_lands_the_good_members(cli, warehouse, tmp_path):
    import zipfile

    from tests.support.source_exports import amplitude_zip

    path = amplitude_zip(tmp_path)
    with zipfile.ZipFile(path) as archive:
        bad = archive.getinfo("123/123_2023-03-01_11#0.json.gz")
    data = bytearray(path.read_bytes())
    start = bad.header_offset + 30 + len(bad.filename.encode()) + len(bad.extra)
    data[start + 20] ^= 0xFF                       # one flipped byte: the member's CRC no longer matches
    path.write_bytes(bytes(data))
    result = cli("load", "amplitude", str(path))
    assert result.exit_code == 1
    assert f"error    cannot read {path}!123/123_2023-03-01_11#0.json.gz" in result.output
    assert "1 file landed, 0 skipped as already loaded, 1 not loaded" in result.output
    assert rows(warehouse, "select file_path, records from raw.loads") == [(f"{path}!123/123_2023-03-01_10#0.json.gz", 4)]


def test_locked_warehouse_is_reported_clearly(warehouse, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(warehouse)!r})
            print("ready", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = subprocess.run(
            [sys.executable, "-m", "sync", "load", "mixpanel", str(SMALL)],
            capture_output=True, text=True, env={"WAREHOUSE_PATH": str(warehouse), "PATH": ""},
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is locked by another process (PID" in lines[0] and "dbt build" in lines[0]


def test_a_file_of_another_source_is_refused_naming_it(cli, warehouse, tmp_path):
    from tests.support.source_exports import amplitude_zip

    result = cli("load", "segment", str(SMALL))
    assert result.exit_code == 1
    assert (f"error    {SMALL} looks like a mixpanel export, not segment (its first 12 records): "
            f"`sync load mixpanel {SMALL}`, or --force to land it as segment") in result.output
    assert rows(warehouse, "select count(*) from raw.loads") == [(0,)]

    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(SMALL, folder / "mixpanel.jsonl")
    archive = amplitude_zip(folder)
    mixed = cli("load", "mixpanel", str(folder))
    assert mixed.exit_code == 1
    assert f"error    {archive} looks like an amplitude export, not mixpanel" in mixed.output
    assert rows(warehouse, "select file_path from raw.loads") == [(str(folder / "mixpanel.jsonl"),)]

    forced = cli("load", "segment", str(SMALL), "--force")
    assert forced.exit_code == 0 and "1 file landed" in forced.output, forced.output


def test_an_empty_file_is_a_warning(cli, warehouse, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = cli("load", "mixpanel", str(empty), str(SMALL))
    assert result.exit_code == 0, result.output
    assert f"warning  {empty} is empty: nothing in it to land" in result.output


def test_a_source_module_is_all_the_python_side_takes(tmp_path, monkeypatch):
    """A new module in sync/sources is found, with its raw table and record shape."""
    import sync.sources as package

    with_module(package, tmp_path, monkeypatch, "heap", (
        "from sync.sources.base import Source\n\n"
        "SOURCE = Source(name='heap', raw_table='heap_events', looks_like=lambda r: 'heap_event' in r)\n"
    ))
    found = package._discover()
    assert found["heap"].raw_table == "heap_events" and set(found) >= {"mixpanel", "amplitude", "segment", "ga4"}
