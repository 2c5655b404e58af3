"""backfill's sync package: land raw exports, push the events mart to destinations."""

__version__ = "0.1.0"
