"""Engine, sessions and the unit of work.

A request or a job owns its transaction: actions only add and flush, `Database.transaction()`
commits or rolls back, and callbacks registered with `after_commit` (waking the relay, sending
jobs) run only once the commit has succeeded, the rule Zulip's `send_event_on_commit` and
Warehouse's after-commit tasks teach.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from civic.errors import ServiceUnavailable
from civic.i18n import _

_AFTER_COMMIT = "civic_after_commit"
_DATABASE = "civic_database"
_SIGNALLED = "civic_signalled"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _make_sqlite_transactional(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _make_sqlite_transactional(engine: Engine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT and defers locking; take it over.

    BEGIN IMMEDIATE takes the write lock up front, so two writers queue on the busy timeout instead
    of one failing with "database is locked" when it upgrades a read lock (SQLAlchemy's documented
    recipe for pysqlite, plus WAL so readers never wait for the writer).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        # SQLite's own lower() folds ASCII only; search must treat "Ş" and "ş" alike, as PostgreSQL does.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` after this session's transaction commits; never if it rolls back."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def signal_after_commit(session: Session, name: str) -> None:
    """Tell the database's listeners for `name` once this transaction has committed.

    The outbox uses it to wake the relay the moment an event is durable instead of waiting for
    the next poll.
    """
    signalled: set[str] = session.info.setdefault(_SIGNALLED, set())
    database: Database | None = session.info.get(_DATABASE)
    if name in signalled or database is None:
        return
    signalled.add(name)
    after_commit(session, lambda: database.signal(name))


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self._listeners: dict[str, list[Callable[[], None]]] = {}

    def on_signal(self, name: str, listener: Callable[[], None]) -> None:
        self._listeners.setdefault(name, []).append(listener)

    def signal(self, name: str) -> None:
        for listener in self._listeners.get(name, ()):
            listener()

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit if the block succeeds, roll back if it raises.

        A database that cannot be reached becomes `ServiceUnavailable` (a 503 with a retry hint),
        never a half-written state: the transaction either committed or it did not.
        """
        session = Session(self.engine, expire_on_commit=False, info={_DATABASE: self})
        try:
            yield session
            session.commit()
        except (OperationalError, DBAPIError) as exc:
            session.rollback()
            if _is_connection_problem(exc):
                raise ServiceUnavailable(
                    _("The database is unavailable; please retry in a few seconds.")
                ) from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            callbacks = session.info.pop(_AFTER_COMMIT, [])
            session.close()
        # Reached only when the commit succeeded: every failure above re-raises.
        for callback in callbacks:
            callback()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def _is_connection_problem(exc: DBAPIError) -> bool:
    return (
        bool(exc.connection_invalidated)
        or isinstance(exc, OperationalError)
        and ("connection" in str(exc).lower() or "server closed" in str(exc).lower())
    )
