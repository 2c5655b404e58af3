"""Cutting events into batches: counts, byte limits, leftovers."""

from __future__ import annotations

from datetime import datetime

import pytest

from sync.batching import UUID, Batch, halves, pack


def rows(n: int, size: int = 10, day: int = 1) -> list[tuple]:
    return [(f"u{i}", datetime(2020, 1, day, 12), "x" * size, size) for i in range(n)]


@pytest.mark.parametrize(("n", "max_events", "sizes"), [(1, 1, [1]), (7, 3, [3, 3, 1]), (6, 3, [3, 3]), (5, 100, [5]), (0, 3, [])])
def test_pack_by_count_keeps_order_and_leftovers(n, max_events, sizes):
    batches = list(pack(rows(n), max_events=max_events, max_bytes=10**9, envelope_bytes=0))
    assert [len(b) for b in batches] == sizes
    assert [r[UUID] for b in batches for r in b] == [f"u{i}" for i in range(n)]


def test_pack_by_bytes_counts_envelope_and_commas():
    # envelope 5 + 3 payloads of 10 + 2 commas = 37 fits in 37; a 4th does not
    batches = list(pack(rows(4), max_events=100, max_bytes=37, envelope_bytes=5))
    assert [len(b) for b in batches] == [3, 1]
    for batch in batches:
        assert 5 + sum(r[3] for r in batch) + len(batch) - 1 <= 37


def test_an_event_larger_than_the_limit_is_alone_in_its_batch():
    big = ("big", datetime(2020, 1, 1), "y" * 100, 100)
    batches = list(pack([*rows(2), big, *rows(1)], max_events=100, max_bytes=50, envelope_bytes=0))
    assert [[r[UUID] for r in b] for b in batches] == [["u0", "u1"], ["big"], ["u0"]]


def test_halves_split_odd_batches():
    left, right = halves(rows(5))
    assert (len(left), len(right)) == (2, 3)


def test_batch_rows_cut_the_joined_body_back_into_events():
    payloads = ['{"a":"é,🎉 👍🏽"}', '{"b":[1,{"c":","}]}', '{"d":"日本語"}']
    batch = Batch(
        uuids="u1,u2,u3",
        payloads=",".join(payloads),
        char_lengths=",".join(str(len(p)) for p in payloads),
        event_ats="1602611311000000,1602611311123456,1602611312000000",
        events=3,
        payload_bytes=sum(len(p.encode()) for p in payloads),
        largest_event_bytes=max(len(p.encode()) for p in payloads),
        first_event_at=datetime(2020, 10, 13, 17, 48, 31),
        last_event_at=datetime(2020, 10, 13, 17, 48, 32),
    )
    rows = batch.rows()
    assert [r[2] for r in rows] == payloads
    assert [r[3] for r in rows] == [len(p.encode()) for p in payloads]
    assert [r[0] for r in rows] == ["u1", "u2", "u3"]
    assert rows[1][1] == datetime(2020, 10, 13, 17, 48, 31, 123456)
    assert batch.body_bytes == len(",".join(payloads).encode())
