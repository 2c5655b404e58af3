"""A running push says how far it is in a small JSON file beside the warehouse, so that
`sync status` in another terminal can answer while DuckDB's lock keeps it out of the file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

WRITE_EVERY_SECONDS = 1.0


def progress_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".push.json")


class PushProgress:
    """What one push has sent so far: started, then advanced, then removed at the end."""

    def __init__(self, warehouse: Path, destination: str, noun: str = "events") -> None:
        self.path = progress_path(warehouse)
        self.state = {"pid": os.getpid(), "destination": destination, "noun": noun, "pending": None,
                      "sent": 0, "started_at": time.time()}
        self._written = 0.0

    def start(self, pending: int) -> None:
        self.state["pending"] = pending
        self._write()

    def advance(self, n: int) -> None:
        self.state["sent"] += n
        if time.monotonic() - self._written >= WRITE_EVERY_SECONDS:
            self._write()

    def close(self) -> None:
        self.path.unlink(missing_ok=True)

    def _write(self) -> None:
        self._written = time.monotonic()
        self.state["updated_at"] = time.time()
        partial = self.path.with_name(self.path.name + ".partial")
        try:
            partial.write_text(json.dumps(self.state))
            partial.replace(self.path)
        except OSError:
            pass   # progress for other terminals is a courtesy: the push goes on without it


def running_push(warehouse: Path) -> dict | None:
    """The progress of a push running on `warehouse`, with its rate and ETA; None if none is."""
    try:
        state = json.loads(progress_path(warehouse).read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    elapsed = max(time.time() - state["started_at"], 1e-9)
    rate = state["sent"] / elapsed
    pending = state.get("pending")
    state["per_second"] = rate
    state["eta_seconds"] = (pending - state["sent"]) / rate if pending and rate > 0 else None
    return state


def describe(state: dict) -> str:
    pending = "?" if state.get("pending") is None else f"{state['pending']:,}"
    eta = "" if state.get("eta_seconds") is None else f", about {state['eta_seconds']:,.0f} s left"
    return (
        f"a push to {state['destination']} is running (PID {state['pid']}): {state['sent']:,} of {pending} "
        f"{state['noun']} sent, {state['per_second']:,.0f} {state['noun']}/s{eta}"
    )
