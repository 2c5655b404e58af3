"""The ledger's rules, on a real warehouse file without a destination: an event is delivered
only with the accepted request that carried it, pending is exactly what is neither delivered
nor refused, and a settled load is looked at again as soon as the mart's rows for it change."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from sync import ledger
from sync.push.sender import Request
from sync.warehouse import ensure_schema, ledger_views, utcnow

STREAM = "posthog"


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_schema(con)
    con.execute("create table main.events (uuid varchar, event_at timestamp, load_id bigint, build_id varchar)")
    yield con
    con.close()


def add_events(con, load_id: int, uuids: list[str], build_id: str = "b1", at: datetime = datetime(2023, 1, 1)) -> None:
    con.executemany("insert into main.events values (?, ?, ?, ?)", [(u, at, load_id, build_id) for u in uuids])


def request(uuids: list[str], status: int) -> Request:
    now = utcnow()
    return Request(",".join(uuids), len(uuids), 10, datetime(2023, 1, 1), datetime(2023, 1, 1), status, "", 1, now, now)


def answer(con, run_id: str, accepted: list[str] = (), refused: list[str] = ()) -> None:
    """Record one run's requests: one accepted request, and one refused request per refused event."""
    ledger.start_run(con, run_id, STREAM, len(accepted) + len(refused))
    batches = []
    if accepted:
        batches.append(ledger.BatchRecord.of(request(list(accepted), 200), f"{run_id}-1", run_id, STREAM, 1))
    failures = []
    for n, uuid in enumerate(refused, start=2):
        batches.append(ledger.BatchRecord.of(request([uuid], 400), f"{run_id}-{n}", run_id, STREAM, n))
        failures.append(ledger.FailureRecord(uuid, f"{run_id}-{n}", 400, "refused", "bad"))
    ledger.record(con, STREAM, run_id, batches, failures)
    ledger.finish_run(con, run_id, "completed", None)


def pending(con, **kwargs) -> int:
    return ledger.count_pending(con, ledger.selection_for(con, STREAM, "main.events", **kwargs))


def test_only_an_accepted_request_delivers_its_events(con):
    add_events(con, 1, ["a", "b", "c"])
    answer(con, "r1", accepted=["a"], refused=["b"])
    assert con.execute("select uuid from sync.deliveries order by 1").fetchall() == [("a",)]
    # the refused request has its batch row but delivered nothing
    assert con.execute("select status, count(*) from sync.batches group by 1 order by 1").fetchall() == [
        ("accepted", 1), ("rejected", 1)
    ]
    assert pending(con) == 1                      # c: neither delivered nor refused
    assert pending(con, retry_failed=True) == 1   # b: refused, not delivered since
    assert con.execute(f"select uuid from {ledger_views(con)}").fetchall() == [("b",)]


def test_a_delivery_after_a_refusal_ends_the_refusal_and_nothing_is_counted_twice(con):
    add_events(con, 1, ["a", "b"])
    answer(con, "r1", accepted=["a"], refused=["b"])
    answer(con, "r2", accepted=["b"])            # --retry-failed got it through
    assert pending(con) == 0 and pending(con, retry_failed=True) == 0
    assert con.execute("select count(*) from sync.undelivered_failures").fetchone() == (0,)
    assert con.execute("select count(distinct uuid), count(*) from sync.deliveries").fetchone() == (2, 2)
    assert con.execute("select events_delivered, events_failed from sync.runs order by started_at").fetchall() == [(1, 1), (1, 0)]


def test_a_settled_load_is_skipped_until_its_rows_in_the_mart_change(con):
    add_events(con, 1, ["a", "b"])
    answer(con, "r1", accepted=["a", "b"])
    ledger.settle(con, ledger.selection_for(con, STREAM, "main.events"))
    assert ledger.selection_for(con, STREAM, "main.events").loads == ()
    add_events(con, 1, ["c"], build_id="b2")     # the same load, grown by another build
    selection = ledger.selection_for(con, STREAM, "main.events")
    assert [load.load_id for load in selection.loads] == [1] and ledger.count_pending(con, selection) == 1
    con.execute("update main.events set build_id = 'b3'")   # a full refresh writes every row again
    assert [load.load_id for load in ledger.selection_for(con, STREAM, "main.events").loads] == [1]
    assert pending(con) == 1 and pending(con, every_load=True) == 1


def test_events_too_recent_are_held_not_pending_and_keep_their_load_unsettled(con):
    add_events(con, 1, ["old"])
    add_events(con, 1, ["new"], at=utcnow() - timedelta(hours=1))
    selection = ledger.hold_back(con, ledger.selection_for(con, STREAM, "main.events"), utcnow() - timedelta(hours=48))
    assert (selection.held, ledger.count_pending(con, selection)) == (1, 1)
    answer(con, "r1", accepted=["old"])
    ledger.settle(con, selection)
    assert [load.load_id for load in ledger.selection_for(con, STREAM, "main.events").loads] == [1]


def test_a_read_only_reader_of_an_older_ledger_gets_the_refusals_view_for_itself(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_schema(con)
        con.execute("drop view sync.undelivered_failures")   # as an older `sync` left it
        con.execute("insert into sync.failed_events values ('posthog', 'x', 'r', null, 400, 'refused', null, now())")
    with duckdb.connect(str(path), read_only=True) as con:
        name = ledger_views(con)
        assert con.execute(f"select uuid from {name}").fetchall() == [("x",)]
