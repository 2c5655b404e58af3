"""Error types. Every error a user can cause is a SyncError: the CLI prints its message
on one line and exits with its code, never a traceback."""

from __future__ import annotations


class SyncError(Exception):
    """An error the user can act on; `str(err)` is the one line the CLI prints."""

    exit_code = 1


class UsageError(SyncError):
    exit_code = 2


class WarehouseError(SyncError):
    """The DuckDB warehouse cannot be opened, is locked, or lacks a table we need."""


class DestinationError(SyncError):
    """The destination refused us for good (bad key, unreachable for the whole retry budget)."""


class Interrupted(SyncError):
    exit_code = 130


class UnexpectedAnswer(SyncError):
    """An answer that is not what the API documents (a 200 without the data it should hold):
    retrying would not change it."""
