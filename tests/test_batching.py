"""Cutting events into batches: counts, byte limits, leftovers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sync.batching import PAYLOAD, UUID, cut, halves, pack


def micros(at: datetime) -> int:
    return (at - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def rows(n: int, size: int = 10, day: int = 1) -> list[tuple]:
    return [(f"u{i}", micros(datetime(2020, 1, day, 12)), b"x" * size) for i in range(n)]


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
        assert 5 + sum(len(r[PAYLOAD]) for r in batch) + len(batch) - 1 <= 37


def test_an_event_larger_than_the_limit_is_alone_in_its_batch():
    big = ("big", micros(datetime(2020, 1, 1)), b"y" * 100)
    batches = list(pack([*rows(2), big, *rows(1)], max_events=100, max_bytes=50, envelope_bytes=0))
    assert [[r[UUID] for r in b] for b in batches] == [["u0", "u1"], ["big"], ["u0"]]


def test_halves_split_odd_batches():
    left, right = halves(rows(5))
    assert (len(left), len(right)) == (2, 3)


def test_cut_by_count_and_by_utc_day():
    def at(day, hour):
        return datetime(2024, 3, day, hour)

    stream = [(f"u{i}", micros(at(day, hour)), b"{}") for i, (day, hour) in enumerate(
        [(1, 0), (1, 1), (1, 23), (2, 0), (2, 1), (2, 2), (2, 3), (3, 0)]
    )]
    by_count = [[r[UUID] for r in b.rows] for b in cut(stream, 3, False, 10**6, 0)]
    assert by_count == [["u0", "u1", "u2"], ["u3", "u4", "u5"], ["u6", "u7"]]
    by_day = [[r[UUID] for r in b.rows] for b in cut(stream, 3, True, 10**6, 0)]
    assert by_day == [["u0", "u1", "u2"], ["u3", "u4", "u5"], ["u6"], ["u7"]]


def test_a_batch_joins_its_events_json_and_measures_it_in_utf8_bytes():
    payloads = ['{"a":"é,🎉 👍🏽"}', '{"b":[1,{"c":","}]}', '{"d":"日本語"}']
    stream = [
        (f"u{i}", micros(datetime(2020, 10, 13, 17, 48, 31 + i)), p.encode()) for i, p in enumerate(payloads)
    ]
    (batch,) = cut(stream, 10, False, 10**6, 0)
    assert batch.payloads.decode() == ",".join(payloads)
    assert batch.uuids == "u0,u1,u2"
    assert batch.body_bytes == len(",".join(payloads).encode()) > len(",".join(payloads))
    assert batch.largest_event_bytes == len(payloads[0].encode())
    assert (batch.first_event_at, batch.last_event_at) == (datetime(2020, 10, 13, 17, 48, 31), datetime(2020, 10, 13, 17, 48, 33))


def test_cut_by_bytes_keeps_each_body_within_the_limit():
    stream = [(f"u{i}", 0, b"x" * size) for i, size in enumerate([10, 10, 10, 30, 10, 60])]
    batches = [[r[UUID] for r in b.rows] for b in cut(stream, 100, False, max_bytes=40, envelope_bytes=5)]
    # 5 + (10+1)*3 = 38 fits; +31 would not; 5 + 31 = 36 fits, +11 would not; 60 alone is too big
    assert batches == [["u0", "u1", "u2"], ["u3"], ["u4"], ["u5"]]
