"""`sync load`: land raw export files in the warehouse, one raw row per record.

Formats: JSON lines (plain or gzipped), a JSON array, a zip of those (Amplitude's export:
each member is landed as its own file), Parquet (GA4's BigQuery export, or any table) and
CSV (`sync load table`). Every record is stored as one JSON object in `record`.

Each file (or zip member) is landed in one transaction, so a crash leaves either the whole
file or nothing. A file whose bytes were already landed for the same source (same SHA-256)
is skipped, which makes every load idempotent. A line that is blank, not UTF-8, not JSON or
not a JSON object (or a CSV line DuckDB cannot read) does not stop the load: it goes to
`raw.load_errors` with its file, line number and the reason, and dbt reports it in
`events_rejected`.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson

from sync.errors import SyncError, UsageError
from sync.warehouse import RAW_SOURCE_DDL, RAW_TABLES, utcnow

SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz", ".gz", ".zip", ".parquet", ".csv", ".csv.gz")
TABLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")

# One raw record as a loader yields it: (line or row number, record JSON, error, raw line).
Record = tuple[int, "str | None", "str | None", bytes]
CHUNK_LINES = 50_000


@dataclass(frozen=True)
class FileResult:
    path: str                            # the file, or "archive.zip!member"
    records: int
    bad_lines: int
    load_id: int | None = None           # set when the file was landed now
    already_loaded_as: int | None = None  # set when identical content was landed before


def discover(paths: Iterable[str]) -> list[Path]:
    """Expand globs and directories (recursively) into a sorted list of export files.

    Raises UsageError for a path that matches nothing, before anything is loaded."""
    found: list[Path] = []
    for spec in paths:
        matches = sorted(glob.glob(spec, recursive=True)) if glob.has_magic(spec) else [spec]
        if not matches:
            raise UsageError(f"no files match {spec}")
        for match in matches:
            path = Path(match)
            if path.is_dir():
                found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)))
            elif path.is_file():
                found.append(path)
            else:
                raise UsageError(f"no such file or directory: {path}")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise UsageError("no export files found (looked for " + ", ".join(SUFFIXES) + ")")
    return unique


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _open(path: Path):
    with path.open("rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb")


def parse_line(raw: bytes) -> tuple[str | None, str | None]:
    """(record_json, None) for a good line, (None, error) for a bad one."""
    line = raw.rstrip(b"\r\n")
    if not line.strip():
        return None, "blank line"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 at byte {exc.start}"
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc}"
    if not isinstance(value, dict):
        return None, f"not a JSON object (got {type(value).__name__})"
    return text.lstrip("\ufeff"), None


def iter_records(path: Path) -> Iterator[Record]:
    """Yield (line_number, record_json, error, raw_line) for every line of a file.

    A file whose content starts with `[` is read as one JSON array of records, numbered
    by position (1-based) instead of by line."""
    with _open(path) as handle:
        yield from _iter_handle(handle)


def _iter_handle(handle) -> Iterator[Record]:
    head = handle.peek(64)[:64] if hasattr(handle, "peek") else b""
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        yield from _iter_array(handle.read())
        return
    for number, raw in enumerate(handle, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        record, error = parse_line(raw)
        yield number, record, error, raw


def _iter_array(content: bytes) -> Iterator[Record]:
    try:
        items = orjson.loads(content.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        yield 1, None, f"invalid JSON array: {exc}", content[:10_000]
        return
    for number, item in enumerate(items, start=1):
        encoded = orjson.dumps(item)
        if isinstance(item, dict):
            yield number, encoded.decode(), None, encoded
        else:
            yield number, None, f"not a JSON object (got {type(item).__name__})", encoded


def table_name(name: str) -> str:
    """The raw table `sync load table NAME` lands into; NAME must be a plain identifier."""
    taken = {*RAW_TABLES.values(), "loads", "load_errors"}
    with duckdb.connect() as con:
        reserved = {w for (w,) in con.execute("select keyword_name from duckdb_keywords() where keyword_category = 'reserved'").fetchall()}
    if not TABLE_NAME.fullmatch(name) or name in taken or name in reserved:
        raise UsageError(
            f"table name {name!r} must be lower-case letters, digits and _ (starting with a letter), "
            "not an SQL reserved word, and not a built-in table (" + ", ".join(sorted(taken)) + ")"
        )
    return name


def load_path(con: duckdb.DuckDBPyConnection, source: str, path: Path, table: str | None = None) -> list[FileResult]:
    """Land one file (a zip: each of its members) into raw.<table>; `table` defaults to the
    source's own table. Returns one result per landed or skipped file."""
    table = table or RAW_TABLES[source]
    name = path.name.lower()
    try:
        if name.endswith(".zip"):
            return _load_zip(con, source, table, path)
        if name.endswith(".parquet"):
            return [_land(con, source, table, str(path), _file_identity(path), lambda: _duckdb_records(con, "read_parquet(?)", path))]
        if name.endswith((".csv", ".csv.gz")):
            return [_land(con, source, table, str(path), _file_identity(path), lambda: _csv_records(con, path))]
    except (zipfile.BadZipFile, RuntimeError, zlib.error, duckdb.Error) as exc:   # RuntimeError: an encrypted member
        raise SyncError(f"cannot read {path}: {str(exc).splitlines()[0]}; nothing from this file was loaded") from None
    return [_land(con, source, table, str(path), _file_identity(path), lambda: iter_records(path))]


def _file_identity(path: Path) -> tuple[str, int]:
    return file_sha256(path), path.stat().st_size


def _load_zip(con: duckdb.DuckDBPyConnection, source: str, table: str, path: Path) -> list[FileResult]:
    """Amplitude's export: a zip of gzipped JSON-lines files, one or more per hour."""
    results = []
    with zipfile.ZipFile(path) as archive:
        for member in sorted(m for m in archive.namelist() if not m.endswith("/")):
            content = archive.read(member)
            identity = hashlib.sha256(content).hexdigest(), len(content)

            def records(content: bytes = content) -> Iterator[Record]:
                stream = gzip.GzipFile(fileobj=io.BytesIO(content)) if content[:2] == b"\x1f\x8b" else io.BufferedReader(io.BytesIO(content))
                with stream:
                    yield from _iter_handle(stream)

            results.append(_land(con, source, table, f"{path}!{member}", identity, records))
    return results


def _duckdb_records(con: duckdb.DuckDBPyConnection, reader: str, path: Path) -> Iterator[Record]:
    """Rows of a file DuckDB reads itself, each as one JSON object, numbered from 1."""
    cursor = con.cursor()
    try:
        cursor.execute(f"select cast(to_json(t) as varchar) from {reader} as t", [str(path)])
        number = 0
        while chunk := cursor.fetchmany(CHUNK_LINES):
            for (record,) in chunk:
                number += 1
                yield number, record, None, b""
    finally:
        cursor.close()


def _csv_records(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[Record]:
    """A CSV file's rows (numbered from 1, header excluded), then the lines DuckDB's CSV
    reader rejected, numbered by their line in the file."""
    cursor = con.cursor()
    try:
        cursor.execute(
            "select cast(to_json(t) as varchar) from read_csv(?, header = true, store_rejects = true) as t",
            [str(path)],
        )
        number = 0
        while chunk := cursor.fetchmany(CHUNK_LINES):
            for (record,) in chunk:
                number += 1
                yield number, record, None, b""
        rejected = cursor.execute(
            "select line, csv_line, error_type || ': ' || error_message from reject_errors order by line"
        ).fetchall()
        for line, text, error in rejected:
            yield int(line), None, f"CSV {error}", (text or "").encode()
    finally:
        cursor.close()


def _land(
    con: duckdb.DuckDBPyConnection,
    source: str,
    table: str,
    label: str,
    identity: tuple[str, int],
    records_of: Callable[[], Iterable[Record]],
) -> FileResult:
    sha, size = identity
    path = label
    previous = con.execute(
        "select load_id, records, bad_lines from raw.loads where source_system = ? and content_sha256 = ?",
        [source, sha],
    ).fetchone()
    if previous:
        return FileResult(path, previous[1], previous[2], already_loaded_as=previous[0])

    loaded_at = utcnow()
    records = bad = 0
    con.execute("begin transaction")
    try:
        con.execute(RAW_SOURCE_DDL.format(table=table))
        load_id = con.execute("select nextval('raw.load_id_seq')").fetchone()[0]
        good_numbers: list[int] = []
        good_records: list[str] = []
        bad_rows: list[tuple[int, str, str]] = []

        def flush() -> None:
            if good_numbers:
                con.execute(
                    f"insert into raw.{table} select ?, unnest(?::bigint[]), ?, ?, unnest(?::varchar[])::json",
                    [load_id, good_numbers, str(path), loaded_at, good_records],
                )
                good_numbers.clear()
                good_records.clear()
            if bad_rows:
                con.executemany(
                    "insert into raw.load_errors values (?, ?, ?, ?, ?, ?, ?)",
                    [(load_id, source, str(path), n, line, err, loaded_at) for n, line, err in bad_rows],
                )
                bad_rows.clear()

        for number, record, error, raw in records_of():
            if record is not None:
                good_numbers.append(number)
                good_records.append(record)
                records += 1
            else:
                bad_rows.append((number, raw.rstrip(b"\r\n").decode("utf-8", "replace"), error or "unreadable"))
                bad += 1
            if len(good_numbers) >= CHUNK_LINES:
                flush()
        flush()
        con.execute(
            "insert into raw.loads values (?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, source, str(path), sha, size, records, bad, loaded_at],
        )
        con.execute("commit")
    except (OSError, EOFError, zlib.error, duckdb.Error) as exc:
        con.execute("rollback")
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SyncError(f"cannot read {path}: {first}; nothing from this file was loaded") from None
    except BaseException:
        con.execute("rollback")
        raise
    return FileResult(path, records, bad, load_id=load_id)
