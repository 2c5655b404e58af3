"""Cutting a stream of events into request-sized batches: pure functions, no I/O.

A row is the tuple DuckDB returns for one pending event: (uuid, event_at, payload JSON,
payload size in bytes). Rows stay plain tuples because millions pass through here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from datetime import datetime

Row = tuple[str, datetime, str, int]
UUID, EVENT_AT, PAYLOAD, SIZE = range(4)


def pack(
    rows: Iterable[Row],
    *,
    max_events: int,
    max_bytes: int,
    envelope_bytes: int,
    split_key: Callable[[Row], Hashable] | None = None,
) -> Iterator[list[Row]]:
    """Group rows in order into batches of at most `max_events` rows whose JSON body
    (envelope + payloads + separating commas) stays within `max_bytes`. With `split_key`,
    a batch also ends where the key changes (e.g. the event's UTC day).

    A row that alone would not fit is yielded as a batch of one; the caller decides
    what to do with it."""
    batch: list[Row] = []
    size = envelope_bytes
    key = None
    for row in rows:
        extra = row[SIZE] + 1 if batch else row[SIZE]  # a comma before every row but the first
        row_key = split_key(row) if split_key else None
        if batch and (len(batch) >= max_events or size + extra > max_bytes or row_key != key):
            yield batch
            batch, size, extra = [], envelope_bytes, row[SIZE]
        batch.append(row)
        size += extra
        key = row_key
    if batch:
        yield batch


def halves(batch: list[Row]) -> tuple[list[Row], list[Row]]:
    middle = len(batch) // 2
    return batch[:middle], batch[middle:]


def body_bytes(rows: list[Row]) -> int:
    """Size of the rows' JSON joined by commas."""
    return sum(row[SIZE] for row in rows) + len(rows) - 1
