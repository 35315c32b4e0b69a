"""Cross-process wake-ups for the relay on PostgreSQL: NOTIFY at commit, LISTEN in the relay.

A web process's commit cannot wake a relay running in a worker with a threading.Event, and
polling every few hundred milliseconds adds that much to every action's time-to-screen. A NOTIFY
issued inside the transaction is delivered only if and when it commits, so the relay hears of an
event exactly when it becomes publishable; polling stays as the fallback.
"""

from __future__ import annotations

import logging

import psycopg
from sqlalchemy.engine import make_url
from sqlmodel import Session

log = logging.getLogger(__name__)

CHANNEL = "civic_outbox"
_NOTIFIED = "civic_outbox_notified"


def notify_on_commit(session: Session) -> None:
    """Queue one NOTIFY for this transaction (PostgreSQL delivers it at commit, drops it on rollback)."""
    if session.info.get(_NOTIFIED) or session.get_bind().dialect.name != "postgresql":
        return
    session.info[_NOTIFIED] = True
    session.connection().exec_driver_sql(f"NOTIFY {CHANNEL}")


def clear_notified(session: Session) -> None:
    session.info.pop(_NOTIFIED, None)


class OutboxListener:
    """A dedicated autocommit connection LISTENing on the channel; reconnects lazily on error."""

    def __init__(self, sqlalchemy_url: str) -> None:
        self._dsn = (
            make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self._conn: psycopg.Connection | None = None

    def wait(self, timeout: float) -> bool:
        """Block until a notification arrives or `timeout` passes; True if one arrived."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
                self._conn.execute(f"LISTEN {CHANNEL}")
            heard = False
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                heard = True
            return heard
        except psycopg.Error as exc:
            log.warning("outbox listener: %s; falling back to polling", exc)
            self.close()
            return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
