"""One source of "now", so every timestamp is timezone-aware UTC and tests can reason about it."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; everything we store is UTC, so say so."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
