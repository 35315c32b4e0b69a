"""One source of "now", so every timestamp is timezone-aware UTC and tests can reason about it."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; everything we store is UTC, so say so."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# For response models: a datetime that always serialises with its UTC offset, whatever the
# database handed back (SQLite returns naive values).
UTCDateTime = Annotated[datetime, AfterValidator(as_utc)]
