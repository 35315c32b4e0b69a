"""What every benchmark of the suite shares: the figures it reports, the services it needs, the
scratch PostgreSQL database and Redis prefix it makes and removes, and the progress lines.

A figure is one measured value next to a baseline measured in the same invocation on the same
machine; the ratio between them is what to compare across machines (2 shared cores move absolute
numbers between runs, both sides of a ratio move together).
"""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get(
    "CIVIC_BENCH_PG_URL",
    os.environ.get("CIVIC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
)
REDIS_URL = os.environ.get(
    "CIVIC_BENCH_REDIS_URL", os.environ.get("CIVIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
)


@dataclass
class Figure:
    """One row of the table. `ratio` is value / baseline; `target` says which side of what is good
    (on the ratio or on the value), and `met` is None where there is no target."""

    key: str
    label: str
    unit: str
    value: float
    baseline: float
    baseline_label: str
    target: str = "—"
    met: bool | None = None
    note: str = ""
    ratio: float = field(init=False)

    def __post_init__(self) -> None:
        self.ratio = self.value / self.baseline if self.baseline else float("nan")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Progress:
    """A line per step on stderr with the time since the suite started: a full run takes
    minutes, and a silent one looks hung."""

    def __init__(self, stream: Any = None) -> None:
        self.started = time.monotonic()
        self.stream = stream or sys.stderr
        self.prefix = ""

    def __call__(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.1f} s] {self.prefix}{message}", file=self.stream, flush=True)


Step = Callable[[str], None]


class ServicesMissing(Exception):
    """PostgreSQL or Redis cannot be reached; the message says what to start or set."""


def redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def check_services(pg_admin_url: str = PG_ADMIN_URL, redis_url: str = REDIS_URL) -> None:
    import redis
    from sqlalchemy import create_engine, text

    problems = []
    try:
        engine = create_engine(pg_admin_url, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        problems.append(
            f"PostgreSQL is not reachable at {redact(pg_admin_url)} ({exc.__class__.__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}).\n"
            "  Start PostgreSQL on 127.0.0.1:5432 with a `postgres` role that may create databases "
            "(trust auth on loopback),\n  or point CIVIC_BENCH_PG_URL at an admin URL, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        )
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=5)
        client.ping()
        client.close()
    except Exception as exc:
        problems.append(
            f"Redis is not reachable at {redact(redis_url)} ({exc}).\n"
            "  Start Redis on 127.0.0.1:6379 (e.g. `redis-server --daemonize yes`), or set "
            "CIVIC_BENCH_REDIS_URL."
        )
    if problems:
        raise ServicesMissing(
            "civic bench needs PostgreSQL and Redis (it measures the production setup):\n"
            + "\n".join(problems)
        )


@contextmanager
def scratch_database(pg_admin_url: str = PG_ADMIN_URL, *, tables: bool = True) -> Iterator[str]:
    """A new database `civic_bench_<random>` (with every civic table when `tables`), dropped after."""
    from sqlalchemy import create_engine, text

    name = f"civic_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = re.sub(r"/[^/]*$", f"/{name}", pg_admin_url)
    try:
        if tables:
            from civic.wiring import import_models

            engine = create_engine(url)
            import_models().metadata.create_all(engine)
            engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def stamp_head(url: str) -> None:
    """Mark a database made by `create_all` as migrated, so `civic serve`/`worker` accept it."""
    from alembic import command

    from civic.migrate import alembic_config

    command.stamp(alembic_config(url), "head")


@contextmanager
def redis_prefix(redis_url: str = REDIS_URL) -> Iterator[str]:
    """A key prefix `civicbench:<random>`; every key under it, and the RQ queue named after it, are
    deleted afterwards."""
    import redis

    token = uuid.uuid4().hex[:10]
    prefix = f"civicbench:{token}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(redis_url)
        try:
            from rq import Queue

            Queue(rq_queue_for(prefix), connection=client).empty()
            for pattern in (f"{prefix}*", f"rq:*{rq_queue_for(prefix)}*"):
                keys = list(client.scan_iter(match=pattern, count=1000))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()


def rq_queue_for(prefix: str) -> str:
    return "civicbench-" + prefix.rsplit(":", 1)[1]


def raise_nofile(wanted: int) -> None:
    """Raise this process's open-file limit (inherited by children) toward `wanted`."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def rss_kib(pid: int) -> int:
    match = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) if match else 0


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a civic or bench subprocess: this checkout first on the path, no
    CIVIC_* setting leaking in from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:] or "(empty)"
    except OSError:
        return "(no log)"


def percentile(values: list[float], q: float) -> float:
    """Nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))]
