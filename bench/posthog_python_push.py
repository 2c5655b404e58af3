"""The comparison: push the `events` mart with posthog-python's Client, the way its docs
show for a historical import (historical_migration=True, every other setting default).

Usage: python bench/posthog_python_push.py WAREHOUSE HOST API_KEY
"""

from __future__ import annotations

import json
import sys

import duckdb
from posthog import Client

warehouse, host, api_key = sys.argv[1:4]
con = duckdb.connect(warehouse, read_only=True)
# The same cap sync push uses while pushing, so peak RSS compares the clients, not DuckDB's
# sort buffers for reading the table.
con.execute("set memory_limit = '128MB'")
cursor = con.execute("select uuid, event, distinct_id, timestamp, properties from main.events order by event_at, uuid")
client = Client(api_key, host=host, historical_migration=True)
while rows := cursor.fetchmany(10_000):
    for uuid, event, distinct_id, timestamp, properties in rows:
        client.capture(event, distinct_id=distinct_id, properties=json.loads(properties), timestamp=timestamp, uuid=uuid)
client.shutdown()
