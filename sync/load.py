"""`sync load`: land raw export files in the warehouse, one raw row per record.

Formats: JSON lines (plain or gzipped), a JSON array, a zip of those (Amplitude's export:
each member is landed as its own file), Parquet (GA4's BigQuery export, or any table) and
CSV (`sync load table`); for a source with an `envelope` (Mixpanel profiles), also one JSON
object holding the records as a list under that key (an API's whole answer). Every record is
stored as one JSON object in `record`.

Each file (or zip member) is landed in one transaction, so a crash leaves either the whole
file or nothing. A file whose bytes were already landed for the same source (same SHA-256)
is skipped, which makes every load idempotent. A line that is blank, not UTF-8, not JSON or
not a JSON object (or a CSV line DuckDB cannot read) does not stop the load: it goes to
`raw.load_errors` with its file, line number and the reason, and dbt reports it in
`events_rejected`.

JSON lines go through DuckDB's own CSV reader (one column, no quoting), which reads and numbers
the lines in order; DuckDB checks that each line is a JSON object, and the few lines it doubts
come back to Python for the exact verdict and message. A file that reader cannot number the way
Python does (carriage returns, control bytes, invalid UTF-8, a line over 2 MB, a JSON array) is
read line by line in Python instead: same rows, same errors, slower. Two files land at once,
each in its own transaction. Raw text is stored ZSTD-compressed (as fast to write, ~8x smaller).
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import msgspec
import orjson
from isal import igzip

from sync.errors import SyncError, UsageError
from sync.sources import SOURCES, raw_tables
from sync.warehouse import RAW_SOURCE_DDL, utcnow

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
    error: str | None = None             # set when the file could not be read: nothing of it landed


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


SAMPLE_LINES = 20
# The envelope keys of every source: a file given to one source may be another's API answer.
_ENVELOPES = tuple(dict.fromkeys(source.envelope for source in SOURCES.values() if source.envelope))


@dataclass(frozen=True)
class Shape:
    path: Path
    records: int                 # records looked at (JSON objects among the first lines)
    looks_like: str | None       # another source every one of them matches, if any


def shape_of(source: str, path: Path) -> Shape | None:
    """Look at the first records of a JSON-lines file (plain, gzipped, or an Amplitude zip's
    first member) and say whether they plainly belong to another source: none of them has the
    shape of `source`, and most of them have the shape of one other. None when the file cannot
    be looked at this way (Parquet, CSV, unreadable): landing says what is wrong with it."""
    if source not in SOURCES or path.name.lower().endswith((".parquet", ".csv", ".csv.gz")):
        return None
    try:
        if path.name.lower().endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                members = sorted(m for m in archive.namelist() if not m.endswith("/"))
                if not members:
                    return Shape(path, 0, None)
                with archive.open(members[0]) as member:
                    head = member.read(1 << 20)
            lines = _head_lines(gzip.decompress(head) if head[:2] == b"\x1f\x8b" else head)
        else:
            with (igzip.open(path, "rb") if _is_gzip(path) else path.open("rb")) as handle:
                head = handle.read(1 << 20)
                lines = _head_lines(head)
                if _may_be_document(head, _ENVELOPES, whole=len(head) < 1 << 20):
                    # a JSON array or an API's whole answer: its first records, from all of it
                    try:
                        document = orjson.loads((head + handle.read()).removeprefix(b"\xef\xbb\xbf"))
                        lines = [orjson.dumps(item) for item in _items(document, _ENVELOPES)[:SAMPLE_LINES]]
                    except orjson.JSONDecodeError:
                        pass
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, RuntimeError):
        return None
    records = []
    for line in lines:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            records.append(value)
    if not records or any(SOURCES[source].looks_like(r) for r in records):
        return Shape(path, len(records), None)
    # most of them (a sample has its odd records: no properties, a bad time) fit one other source
    others = [
        name for name, other in SOURCES.items()
        if name != source and sum(map(other.looks_like, records)) >= 0.8 * len(records)
    ]
    return Shape(path, len(records), others[0] if len(others) == 1 else None)


def _head_lines(data: bytes) -> list[bytes]:
    lines = [line for line in data.split(b"\n")[:-1] if line.strip()] if b"\n" in data else [data]
    return lines[:SAMPLE_LINES]


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


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


_JSON = msgspec.json.Decoder(msgspec.Raw)   # checks the syntax without building the values


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
        _JSON.decode(line)
    except msgspec.DecodeError as exc:
        try:
            orjson.loads(line)   # its messages say where: "unexpected end of data: line 1 column 69"
        except orjson.JSONDecodeError as described:
            exc = described
        return None, f"invalid JSON: {exc}"
    if not line.lstrip(b" \t\r\n").startswith(b"{"):
        return None, f"not a JSON object (got {type(msgspec.json.decode(line)).__name__})"
    return text.lstrip("\ufeff"), None


def iter_records(path: Path, envelopes: tuple[str, ...] = ()) -> Iterator[Record]:
    """Yield (line_number, record_json, error, raw_line) for every line of a file.

    A file whose content starts with `[` is read as one JSON array of records, and a file that
    is one JSON object with a list under one of `envelopes` (an API's whole answer) as that
    list; their records are numbered by position (1-based) instead of by line."""
    with _open(path) as handle:
        yield from _iter_handle(handle, envelopes)


_SPACE = b"\xef\xbb\xbf \t\r\n"   # what may come before a file's first JSON value (a byte order mark too)


def _iter_handle(handle, envelopes: tuple[str, ...] = ()) -> Iterator[Record]:
    head = handle.peek(64)[:64].lstrip(_SPACE) if hasattr(handle, "peek") else b""
    if head.startswith(b"["):
        yield from _iter_document(handle.read(), envelopes)
        return
    lines: Iterable[bytes] = handle
    if envelopes and head.startswith(b"{"):
        first = handle.readline()
        if _opens_document(first, envelopes):
            yield from _iter_document(first + handle.read(), envelopes)
            return
        lines = itertools.chain([first], handle)
    for number, raw in enumerate(lines, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        record, error = parse_line(raw)
        yield number, record, error, raw


def _opens_document(first_line: bytes, envelopes: tuple[str, ...]) -> bool:
    """Given a file's whole first line: is the file one JSON document rather than JSON lines?
    An array is; an object is when it spreads over lines (a first line of only `{`) or holds a
    list under one of `envelopes`."""
    text = first_line.strip(_SPACE)
    if text.startswith(b"["):
        return True
    if not envelopes or not text.startswith(b"{"):
        return False
    if text == b"{":
        return True
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and any(isinstance(value.get(key), list) for key in envelopes)


def _may_be_document(head: bytes, envelopes: tuple[str, ...], whole: bool) -> bool:
    """_opens_document for the first bytes of a file (all of it when `whole`): a first line
    longer than `head` that opens an object may be an API's answer on one line."""
    first, newline, _ = head.lstrip(_SPACE).partition(b"\n")
    if not newline and not whole and envelopes and first.startswith(b"{"):
        return True
    return _opens_document(first, envelopes)


def _items(document, envelopes: tuple[str, ...]) -> list:
    """The records of a file that is one JSON document: an array's items, the list under an
    envelope key, or the object itself."""
    if isinstance(document, dict):
        return next((document[key] for key in envelopes if isinstance(document.get(key), list)), [document])
    return document if isinstance(document, list) else [document]


def _iter_document(content: bytes, envelopes: tuple[str, ...]) -> Iterator[Record]:
    try:
        document = orjson.loads(content.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        kind = "array" if content.lstrip(_SPACE).startswith(b"[") else "document"
        yield 1, None, f"invalid JSON {kind}: {exc}", content[:10_000]
        return
    for number, item in enumerate(_items(document, envelopes), start=1):
        encoded = orjson.dumps(item)
        if isinstance(item, dict):
            yield number, encoded.decode(), None, encoded
        else:
            yield number, None, f"not a JSON object (got {type(item).__name__})", encoded


def table_name(name: str) -> str:
    """The raw table `sync load table NAME` lands into; NAME must be a plain identifier."""
    taken = {*raw_tables(), "loads", "load_errors"}
    with duckdb.connect() as con:
        reserved = {w for (w,) in con.execute("select keyword_name from duckdb_keywords() where keyword_category = 'reserved'").fetchall()}
    if not TABLE_NAME.fullmatch(name) or name in taken or name in reserved:
        raise UsageError(
            f"table name {name!r} must be lower-case letters, digits and _ (starting with a letter), "
            "not an SQL reserved word, and not a built-in table (" + ", ".join(sorted(taken)) + ")"
        )
    return name


# Files landed at once. Landing one file keeps about one core busy (DuckDB's ordered line
# reader and the table append run on one thread), so two keep both of this machine's busy.
PARALLEL_FILES = 2


def load_paths(
    con: duckdb.DuckDBPyConnection, source: str, paths: Iterable[Path], table: str | None = None
) -> Iterator[FileResult]:
    """Land files in the order given, yielding one result per landed or skipped file.

    JSON-lines files land `PARALLEL_FILES` at a time, each in its own transaction on its own
    cursor. The main thread decides, in order, whether a file's content is new (against the
    warehouse and the files before it in this call) and gives it its load id, so ids follow
    the order of `paths` whatever order the files finish in. Other formats land one by one."""
    table = table or SOURCES[source].raw_table
    con.execute(RAW_SOURCE_DDL.format(table=table))   # before any transaction: no catalog conflicts
    con.execute(_LANDING_SETTINGS)
    paths = list(paths)
    unchanged = unchanged_loads(con, source, paths)
    with ThreadPoolExecutor(PARALLEL_FILES) as pool:
        scans = [
            pool.submit(_scan_json_lines, path, _envelopes(source)) if _is_json_lines(path) and not unchanged[path] else None
            for path in paths
        ]
        running: list[tuple[Future, Path]] = []
        landing: dict[str, Future] = {}     # content being landed by this call -> its result
        try:
            for path, scan in zip(paths, scans):
                if unchanged[path]:
                    running.append((_done(unchanged[path]), path))
                    continue
                if scan is None:
                    yield from _finished(running)
                    try:
                        yield from load_path(con, source, path, table)
                    except SyncError as exc:   # one unreadable file does not stop the others
                        yield FileResult(str(path), 0, 0, error=str(exc))
                    continue
                found = scan.result()
                sha = found.identity[0]
                if sha in landing:
                    running.append((landing[sha], path))
                    continue
                previous = _previous_load(con, source, sha)
                if previous:
                    skipped = FileResult(str(path), previous.records, previous.bad_lines, already_loaded_as=previous.load_id)
                    running.append((_done(skipped), path))
                    continue
                future = pool.submit(_land_on_cursor, con, source, table, path, found, _next_load_id(con))
                landing[sha] = future
                running.append((future, path))
                while len(busy := [f for f, _ in running if not f.done()]) >= PARALLEL_FILES:
                    wait(busy, return_when=FIRST_COMPLETED)
                while running and running[0][0].done():
                    yield _result_for(*running.pop(0))
            yield from _finished(running)
        finally:
            for future in scans:
                if future is not None:
                    future.cancel()


# Raw text compresses ~8x with ZSTD and is written as fast as uncompressed.
_LANDING_SETTINGS = "set force_compression = 'zstd'; set memory_limit = '320MB'"


def _modified_ns(label: str) -> int | None:
    """The modification time of a landed file (None for a zip member, or a file gone since)."""
    try:
        return None if "!" in label and not Path(label).exists() else Path(label).stat().st_mtime_ns
    except OSError:
        return None


def unchanged_loads(con: duckdb.DuckDBPyConnection, source: str, paths: list[Path]) -> dict[Path, FileResult | None]:
    """For each path, a load of this very file, unchanged since (same path, size and
    modification time, as make and rsync judge it): it is skipped without reading it again.
    One query for all the paths."""
    stats = {}
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        stats[str(path)] = (stat.st_size, stat.st_mtime_ns)
    found: dict[str, FileResult] = {}
    if stats:
        rows = con.execute(
            """
            select file_path, file_bytes, file_modified_ns, load_id, records, bad_lines from raw.loads
            where source_system = ? and list_contains(?, file_path)
            order by load_id desc
            """,
            [source, list(stats)],
        ).fetchall()
        for file_path, size, modified, load_id, records, bad in rows:   # newest first: the oldest match wins
            if stats[file_path] == (size, modified):
                found[file_path] = FileResult(file_path, records, bad, already_loaded_as=load_id)
    return {path: found.get(str(path)) for path in paths}


def _is_json_lines(path: Path) -> bool:
    return not path.name.lower().endswith((".zip", ".parquet", ".csv", ".csv.gz"))


def _done(result: FileResult) -> Future:
    future: Future = Future()
    future.set_result(result)
    return future


def _result_for(future: Future, path: Path) -> FileResult:
    """The result for `path`; a file with the content another file of the call landed reports that load."""
    try:
        result = future.result()
    except SyncError as exc:
        return FileResult(str(path), 0, 0, error=str(exc))
    if result.path == str(path):
        return result
    return FileResult(str(path), result.records, result.bad_lines, already_loaded_as=result.load_id or result.already_loaded_as)


def _finished(running: list[tuple[Future, Path]]) -> Iterator[FileResult]:
    while running:
        yield _result_for(*running.pop(0))


def _land_on_cursor(con, source: str, table: str, path: Path, scan: "_Scan", load_id: int) -> FileResult:
    cursor = con.cursor()
    try:
        return _land_as(cursor, source, table, str(path), scan.identity, load_id, *_json_lines_writers(path, scan, _envelopes(source)))
    finally:
        cursor.close()


def load_path(con: duckdb.DuckDBPyConnection, source: str, path: Path, table: str | None = None) -> list[FileResult]:
    """Land one file (a zip: each of its members) into raw.<table>; `table` defaults to the
    source's own table. Returns one result per landed or skipped file."""
    table = table or SOURCES[source].raw_table
    name = path.name.lower()
    con.execute(RAW_SOURCE_DDL.format(table=table))
    con.execute(_LANDING_SETTINGS)
    try:
        if name.endswith(".zip"):
            return _load_zip(con, source, table, path)
        if name.endswith(".parquet"):
            return [_land(con, source, table, str(path), _file_identity(path), _duckdb_table_writer("read_parquet($path)", path))]
        if name.endswith((".csv", ".csv.gz")):
            return [_land(con, source, table, str(path), _file_identity(path), _rows_writer(lambda: _csv_records(con, path)))]
    except (zipfile.BadZipFile, RuntimeError, zlib.error, duckdb.Error) as exc:   # RuntimeError: an encrypted member
        raise SyncError(f"cannot read {path}: {str(exc).splitlines()[0]}; nothing from this file was loaded") from None
    scan = _scan_json_lines(path, _envelopes(source))
    return [_land(con, source, table, str(path), scan.identity, *_json_lines_writers(path, scan, _envelopes(source)))]


def _file_identity(path: Path) -> tuple[str, int]:
    return file_sha256(path), path.stat().st_size


@dataclass(frozen=True)
class _Scan:
    identity: tuple[str, int]   # SHA-256 of the file's bytes, size
    gzipped: bool
    duckdb_can_read: bool       # DuckDB's line reader numbers this file's lines as Python does


# DuckDB's CSV reader also ends a line at a carriage return, and the reader below uses \x01 as
# its column delimiter: a file with either byte is read by Python.
_UNSUPPORTED_BYTES = (b"\r", b"\x01")
_BLOCK = 1 << 20


def _scan_json_lines(path: Path, envelopes: tuple[str, ...] = ()) -> _Scan:
    """Hash the file and look at its (decompressed) content once, before anything is landed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        head = handle.read(2)
        digest.update(head)
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    gzipped = head == b"\x1f\x8b"
    readable = True
    try:
        with (igzip.open(path, "rb") if gzipped else path.open("rb")) as content:
            first = True
            for block in iter(lambda: content.read(_BLOCK), b""):
                if first and _may_be_document(block, envelopes, whole=len(block) < _BLOCK):
                    readable = False   # a JSON array or an API's whole answer, not JSON lines
                first = False
                if not readable or any(byte in block for byte in _UNSUPPORTED_BYTES):
                    readable = False
                    break
    except (OSError, EOFError, zlib.error):
        readable = False   # Python's reader fails on it too, and says why
    return _Scan((digest.hexdigest(), path.stat().st_size), gzipped, readable)


def _envelopes(source: str) -> tuple[str, ...]:
    """The envelope key a file of `source` may hold its records under (none for `sync load table`)."""
    envelope = SOURCES[source].envelope if source in SOURCES else None
    return (envelope,) if envelope else ()


def _json_lines_writers(path: Path, scan: _Scan, envelopes: tuple[str, ...]) -> list["Writer"]:
    writers = [_rows_writer(lambda: iter_records(path, envelopes))]
    if scan.duckdb_can_read:
        writers.insert(0, _duckdb_lines_writer(path, scan.gzipped))
    return writers


def _load_zip(con: duckdb.DuckDBPyConnection, source: str, table: str, path: Path) -> list[FileResult]:
    """Amplitude's export: a zip of gzipped JSON-lines files, one or more per hour."""
    results = []
    with zipfile.ZipFile(path) as archive:
        for member in sorted(m for m in archive.namelist() if not m.endswith("/")):
            label = f"{path}!{member}"
            try:
                content = archive.read(member)
            except (zipfile.BadZipFile, RuntimeError, zlib.error, OSError, EOFError) as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                results.append(FileResult(label, 0, 0, error=f"cannot read {label}: {first}; nothing from this member was loaded"))
                continue
            identity = hashlib.sha256(content).hexdigest(), len(content)

            def records(content: bytes = content) -> Iterator[Record]:
                stream = gzip.GzipFile(fileobj=io.BytesIO(content)) if content[:2] == b"\x1f\x8b" else io.BufferedReader(io.BytesIO(content))
                with stream:
                    yield from _iter_handle(stream, _envelopes(source))

            try:
                results.append(_land(con, source, table, label, identity, _rows_writer(records)))
            except SyncError as exc:
                results.append(FileResult(label, 0, 0, error=str(exc)))
    return results


def _duckdb_table_writer(reader: str, path: Path) -> "Writer":
    """Land the rows of a file DuckDB reads itself (Parquet), each as one JSON object,
    numbered from 1 in file order."""

    def write(con, source, table, load_id, label, loaded_at) -> tuple[int, int]:
        (records,) = con.execute(
            f"insert into raw.{table} select $load_id, row_number() over (), $label, $loaded_at, to_json(t) from {reader} as t",
            {"path": str(path), "load_id": load_id, "label": label, "loaded_at": loaded_at},
        ).fetchone()
        return records, 0

    return write


def _csv_records(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[Record]:
    """A CSV file's rows (numbered from 1, header excluded), then the lines DuckDB's CSV
    reader rejected, numbered by their line in the file."""
    cursor = con.cursor()
    try:
        cursor.execute(
            "select cast(to_json(t) as varchar) from read_csv(?, header = true, all_varchar = true, store_rejects = true) as t",
            [str(path)],
        )
        number = 0
        while chunk := cursor.fetchmany(CHUNK_LINES):
            for (record,) in chunk:
                number += 1
                yield number, record, None, b""
        # DuckDB may report one line more than once (a row of five columns where three are
        # expected: "Found: 4", then "Found: 5"): one bad line is one row, with all its reasons
        rejected = cursor.execute(
            """
            select line, any_value(csv_line), string_agg(distinct error_type || ': ' || error_message, '; ')
            from reject_errors group by line order by line
            """
        ).fetchall()
        for line, text, error in rejected:
            yield int(line), None, f"CSV {error}", (text or "").encode()
    finally:
        cursor.close()


class _CannotLand(Exception):
    """A writer cannot land this file exactly as the next one would: roll back, try the next."""


# Lands one file's rows inside the open transaction: (con, source, table, load_id, path,
# loaded_at) -> (records, bad lines).
Writer = Callable[[duckdb.DuckDBPyConnection, str, str, int, str, datetime], tuple[int, int]]


def _land(
    con: duckdb.DuckDBPyConnection,
    source: str,
    table: str,
    label: str,
    identity: tuple[str, int],
    *writers: Writer,
) -> FileResult:
    previous = _previous_load(con, source, identity[0])
    if previous:
        return FileResult(label, previous.records, previous.bad_lines, already_loaded_as=previous.load_id)
    return _land_as(con, source, table, label, identity, _next_load_id(con), *writers)


def _previous_load(con: duckdb.DuckDBPyConnection, source: str, sha: str) -> FileResult | None:
    row = con.execute(
        "select load_id, file_path, records, bad_lines from raw.loads where source_system = ? and content_sha256 = ?",
        [source, sha],
    ).fetchone()
    return FileResult(row[1], row[2], row[3], load_id=row[0]) if row else None


def _next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select nextval('raw.load_id_seq')").fetchone()[0]


def _land_as(
    con: duckdb.DuckDBPyConnection,
    source: str,
    table: str,
    label: str,
    identity: tuple[str, int],
    load_id: int,
    *writers: Writer,
) -> FileResult:
    """Land one file as `load_id` in one transaction, with the first writer that can."""
    sha, size = identity
    path = label
    loaded_at = utcnow()
    for writer in writers:
        con.execute("begin transaction")
        try:
            records, bad = writer(con, source, table, load_id, path, loaded_at)
            con.execute(
                """
                insert into raw.loads (load_id, source_system, file_path, content_sha256, file_bytes, records, bad_lines, loaded_at, file_modified_ns)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [load_id, source, path, sha, size, records, bad, loaded_at, _modified_ns(path)],
            )
            con.execute("commit")
        except _CannotLand:
            con.execute("rollback")
            continue
        except (OSError, EOFError, zlib.error, duckdb.Error) as exc:
            con.execute("rollback")
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SyncError(f"cannot read {path}: {first}; nothing from this file was loaded") from None
        except BaseException:
            con.execute("rollback")
            raise
        return FileResult(path, records, bad, load_id=load_id)
    raise AssertionError("the last writer always lands")   # _rows_writer never gives up


def _insert_bad_lines(
    con: duckdb.DuckDBPyConnection, source: str, load_id: int, path: str, loaded_at: datetime, rows: list[tuple[int, str, str]]
) -> None:
    if rows:
        numbers, lines, errors = zip(*rows)
        con.execute(
            "insert into raw.load_errors select ?, ?, ?, unnest(?::bigint[]), unnest(?::varchar[]), unnest(?::varchar[]), ?",
            [load_id, source, path, list(numbers), list(lines), list(errors), loaded_at],
        )


def _rows_writer(records_of: Callable[[], Iterable[Record]]) -> Writer:
    """Land the records a Python reader yields, in chunks."""

    def write(con, source, table, load_id, path, loaded_at) -> tuple[int, int]:
        records = bad = 0
        good_numbers: list[int] = []
        good_records: list[str] = []
        bad_rows: list[tuple[int, str, str]] = []

        def flush() -> None:
            if good_numbers:
                con.execute(
                    f"insert into raw.{table} select ?, unnest(?::bigint[]), ?, ?, unnest(?::varchar[])",
                    [load_id, good_numbers, path, loaded_at, good_records],
                )
                good_numbers.clear()
                good_records.clear()
            _insert_bad_lines(con, source, load_id, path, loaded_at, bad_rows)
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
        return records, bad

    return write


# Every line of a JSON-lines file, numbered from 1 in file order: DuckDB's CSV reader with one
# column and nothing special but the newline (chr(1) as the delimiter is not in a file it is
# given). A blank line is a null; a UTF-8 byte order mark at the start is dropped, as Python does.
_LINES = """
select row_number() over () as line_number, line
from read_csv(
    $path, columns = {{'line': 'VARCHAR'}}, delim = chr(1), quote = '', escape = '', header = false,
    new_line = '\\n', auto_detect = false, strict_mode = false, null_padding = true, compression = '{compression}'
)
"""
# DuckDB's JSON parser also takes NaN, Infinity and trailing commas, which JSON does not: a line
# that may hold one goes to Python too.
_MAYBE_LENIENT = r"regexp_matches(line, '[:\[,]\s*[-+]?(?i:nan|inf)|,\s*[}\]]')"


def _duckdb_lines_writer(path: Path, gzipped: bool) -> Writer:
    """Land a JSON-lines file with DuckDB reading it; Python judges only the doubtful lines.

    DuckDB reads, numbers and checks every line once, into a temporary table; the lines that
    parse as JSON objects are landed from it. The lines it rejects, and those it accepts that
    may hold what only DuckDB's parser allows, get Python's verdict (parse_line): bad ones go
    to raw.load_errors, good ones are landed."""
    lines = _LINES.format(compression="gzip" if gzipped else "none")

    def write(con, source, table, load_id, label, loaded_at) -> tuple[int, int]:
        try:
            con.execute(
                f"""
                create or replace temporary table _landing as
                select
                    line_number,
                    line,
                    coalesce(starts_with(ltrim(line, ' ' || chr(9)), '{{') and json_valid(line), false) as parses,
                    coalesce({_MAYBE_LENIENT}, false) as doubtful
                from ({lines})
                """,
                {"path": str(path)},
            )
        except duckdb.Error:
            raise _CannotLand from None   # invalid UTF-8, a line over 2 MB, ...: Python reads it
        try:
            bad_rows: list[tuple[int, str, str]] = []
            good_after_all: list[int] = []
            for number, line, parsed in con.execute(
                "select line_number, line, parses from _landing where not parses or doubtful order by line_number"
            ).fetchall():
                _, error = parse_line((line or "").encode())
                if error is not None:
                    bad_rows.append((number, line or "", error))
                elif not parsed:
                    good_after_all.append(number)
            (records,) = con.execute(
                f"""
                insert into raw.{table}
                select $load_id, line_number, $label, $loaded_at, line
                from _landing
                where (parses and line_number not in (select unnest($bad::bigint[])))
                    or line_number in (select unnest($good::bigint[]))
                """,
                {
                    "load_id": load_id, "label": label, "loaded_at": loaded_at,
                    "bad": [number for number, _, _ in bad_rows], "good": good_after_all,
                },
            ).fetchone()
        finally:
            con.execute("drop table if exists _landing")
        _insert_bad_lines(con, source, load_id, label, loaded_at, bad_rows)
        return records, len(bad_rows)

    return write
