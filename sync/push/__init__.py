"""`sync push`: send the rows of a mart the destination has not accepted or refused yet.

Split by job: `reader` (what is pending, read window by window and cut into batches),
`sender` (one batch to one request, isolating what the destination refuses), `recorder`
(the ledger rows for every answer) and `run` (the pool of workers and the run's outcome).
`sync push --dry-run` (sync.dryrun) is the same reading and the same worker with a
transport that writes files and a recorder that records nothing.
"""

import duckdb

from sync.push.recorder import RunSummary
from sync.push.run import push
from sync.streams import Stream
from sync.warehouse import relation_exists

__all__ = ["RunSummary", "has_mart", "push"]


def has_mart(con: duckdb.DuckDBPyConnection, stream: Stream, destination) -> bool:
    """Whether dbt has built the stream's mart for `destination` (a warehouse built by an older
    version may lack one)."""
    return relation_exists(con, "main", stream.mart_for(destination))
