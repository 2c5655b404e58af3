"""`sync load`: land raw export files in the warehouse, one raw row per record.

Each file is landed in one transaction, so a crash leaves either the whole file or
nothing. A file whose bytes were already landed for the same source (same SHA-256) is
skipped, which makes every load idempotent. A line that is blank, not UTF-8, not JSON or
not a JSON object does not stop the load: it goes to `raw.load_errors` with its file,
line number and the reason, and dbt reports it in `events_rejected`.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson

from sync.errors import SyncError, UsageError
from sync.warehouse import RAW_TABLES, utcnow

SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz", ".gz")
CHUNK_LINES = 50_000


@dataclass(frozen=True)
class FileResult:
    path: Path
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


def iter_records(path: Path) -> Iterator[tuple[int, str | None, str | None, bytes]]:
    """Yield (line_number, record_json, error, raw_line) for every line of a file.

    A file whose content starts with `[` is read as one JSON array of records, numbered
    by position (1-based) instead of by line."""
    with _open(path) as handle:
        head = handle.peek(64)[:64] if hasattr(handle, "peek") else b""
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
            yield from _iter_array(handle.read())
            return
        for number, raw in enumerate(handle, start=1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            record, error = parse_line(raw)
            yield number, record, error, raw


def _iter_array(content: bytes) -> Iterator[tuple[int, str | None, str | None, bytes]]:
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


def load_file(con: duckdb.DuckDBPyConnection, source: str, path: Path) -> FileResult:
    table = RAW_TABLES[source]
    sha = file_sha256(path)
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

        for number, record, error, raw in iter_records(path):
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
            [load_id, source, str(path), sha, path.stat().st_size, records, bad, loaded_at],
        )
        con.execute("commit")
    except (OSError, EOFError, zlib.error) as exc:
        con.execute("rollback")
        raise SyncError(f"cannot read {path}: {exc}; nothing from this file was loaded") from None
    except BaseException:
        con.execute("rollback")
        raise
    return FileResult(path, records, bad, load_id=load_id)
