"""The `civic` command: serve, worker, migrate, demo.

Every refusal is a `click.ClickException` whose message says what is wrong and what to do next;
a traceback is left only for bugs. `serve` and `worker` check the database and Redis before they
start, because a process that starts and then fails on every request is harder to diagnose than
one that refuses with the reason.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from civic.settings import ConfigurationError, Mode, Settings, load_settings

log = logging.getLogger("civic.cli")

if TYPE_CHECKING:
    from civic.demo import DemoReport


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return load_settings()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    except ValidationError as exc:
        problems = "\n".join(
            f"  CIVIC_{str(error['loc'][0]).upper()}: {error['msg']}" if error["loc"] else f"  {error['msg']}"
            for error in exc.errors()
        )
        raise click.ClickException(f"The configuration is not valid:\n{problems}") from exc


def _ready(settings: Settings) -> None:
    try:
        settings.require_production_ready()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


def _database_ready(settings: Settings) -> None:
    """Refuse to start on a database that cannot be reached or is behind this code's migrations.

    A database migrated by a newer release only warns: during a rolling deploy the old release
    keeps serving while the new one has already migrated.
    """
    from civic.migrate import DatabaseUnreachable, redact_url, schema_status

    url = settings.effective_database_url
    try:
        status = schema_status(url)
    except DatabaseUnreachable as exc:
        raise _unreachable(exc) from exc
    if status.current is None:
        raise click.ClickException(_unmigrated_message(redact_url(url), status.has_tables))
    if not status.known:
        click.echo(
            f"Warning: the database is at revision {status.current}, which this release does not know "
            f"(its newest is {status.head}); a newer release has migrated it.",
            err=True,
        )
    elif not status.up_to_date:
        raise click.ClickException(
            f"The database schema is at revision {status.current}, but this release needs {status.head}: "
            "run `civic migrate` first."
        )


def _unreachable(exc: Exception) -> click.ClickException:
    return click.ClickException(f"{exc}\nStart the database or correct CIVIC_DATABASE_URL, then try again.")


def _unmigrated_message(where: str, has_tables: bool) -> str:
    if has_tables:
        return (
            f"The database at {where} has tables but no migration history (no alembic_version), so civic "
            "cannot tell which schema it holds. Use an empty database and run `civic migrate`."
        )
    return f"The database at {where} is empty: run `civic migrate` first."


def _redis_ready(settings: Settings) -> None:
    """In production, refuse to start without Redis: events and jobs could not leave the process."""
    if settings.mode is not Mode.PRODUCTION:
        return
    import redis

    from civic.migrate import redact_url

    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise click.ClickException(
            f"Cannot reach Redis at {redact_url(settings.redis_url)}: {exc}\n"
            "Start Redis or correct CIVIC_REDIS_URL, then try again."
        ) from exc
    finally:
        client.close()


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="civic")
def main() -> None:
    """civic: a Gov 2.0 civic participation platform.

    Configuration comes from CIVIC_* environment variables (see the README). With none set,
    civic runs embedded: SQLite under ./var, an in-process event bus and inline jobs.
    """


def _migrate(url: str, revision: str) -> None:
    """Upgrade and say where the database was and is; every failure becomes a clear message."""
    from alembic.util import CommandError

    from civic.migrate import DatabaseUnreachable, redact_url, schema_status, upgrade

    click.echo(f"Migrating {redact_url(url)} to {revision} …")
    try:
        before = schema_status(url)
        if before.current is None and before.has_tables:
            raise click.ClickException(_unmigrated_message(redact_url(url), True))
        upgrade(url, revision)
        after = schema_status(url)
    except DatabaseUnreachable as exc:
        raise _unreachable(exc) from exc
    except CommandError as exc:
        raise click.ClickException(f"Migration failed: {exc}") from exc
    except click.ClickException:
        raise
    except Exception as exc:
        raise click.ClickException(
            f"Migration failed: {exc.__class__.__name__}: {exc}\nFix the cause and try again."
        ) from exc
    if before.current == after.current:
        click.echo(f"Already up to date at revision {after.current}.")
    else:
        click.echo(f"Database upgraded from {before.current or 'empty'} to revision {after.current}.")


@main.command(short_help="Bring the database schema up to date.")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
def migrate(revision: str) -> None:
    """Bring the database schema up to date (Alembic upgrade).

    Safe to run again, and from several machines at once on PostgreSQL: the others wait, then find
    nothing to do.
    """
    settings = _settings()
    _migrate(settings.effective_database_url, revision)


def _build_runtime(settings: Settings):  # type: ignore[no-untyped-def]
    """Build the runtime; a configuration problem (e.g. a bad point-rules file) is one clear line."""
    from civic.runtime import build_runtime

    try:
        return build_runtime(settings)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


def _serve(settings: Settings, host: str | None, port: int | None, workers: int | None) -> None:
    import uvicorn

    _ready(settings)
    count = workers or settings.web_concurrency
    if count > 1 and settings.mode is Mode.EMBEDDED:
        raise click.ClickException(
            "Several web processes need production mode: the embedded event bus lives inside one process. "
            "Set CIVIC_DATABASE_URL (PostgreSQL) and CIVIC_REDIS_URL, or use --workers 1."
        )
    _database_ready(settings)
    _redis_ready(settings)
    host = host or settings.host
    port = port or settings.port
    click.echo(f"civic ({settings.mode.value} mode) serving on http://{host}:{port}/  — Ctrl+C to stop")
    _build_runtime(settings).close()  # fail here, in one line, rather than in every web process
    uvicorn.run(
        "civic.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=count,
        ws_per_message_deflate=False,
        ws_max_size=64 * 1024,  # the hub refuses frames over 16 KiB; never buffer megabytes first
        timeout_graceful_shutdown=10,
        proxy_headers=True,
        log_level=settings.log_level,
    )


@main.command(short_help="Serve the web site and API.")
@click.option("--host", default=None, help="Interface to listen on (CIVIC_HOST, default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (CIVIC_PORT, default 8000).")
@click.option(
    "--workers", default=None, type=int, help="Web processes (CIVIC_WEB_CONCURRENCY; production only)."
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web site and API with uvicorn (run `civic migrate` first)."""
    _serve(_settings(), host, port, workers)


@main.command(short_help="Relay events and run handler jobs.")
@click.option("--burst", is_flag=True, help="Relay and run everything that is due now, then exit.")
def worker(burst: bool) -> None:
    """Relay outbox events to the bus and run event handlers as jobs (RQ in production); expire
    consents and sign ledger tree heads every CIVIC_LEDGER_HEAD_INTERVAL_SECONDS."""
    import threading

    from civic.runtime import set_worker_runtime
    from civic.trust import housekeeping

    settings = _settings()
    _ready(settings)
    _database_ready(settings)
    _redis_ready(settings)
    _configure_logging(settings)
    runtime = _build_runtime(settings)
    set_worker_runtime(runtime)
    stop_housekeeping = threading.Event()
    try:
        if settings.mode is Mode.EMBEDDED:
            click.echo(
                "Embedded mode: `civic serve` relays events itself; this worker relays and runs handlers inline."
            )
            if burst:
                click.echo(f"Relayed {runtime.relay.drain()} events.")
                return
            runtime.start_relay()
            housekeeping.start(runtime.db, settings, stop_housekeeping)
            click.echo("Relaying; Ctrl+C to stop.")
            _wait_forever()
            return
        from rq import Queue, SimpleWorker

        queue = Queue(settings.rq_queue, connection=runtime.jobs.queue.connection)  # type: ignore[attr-defined]
        if burst:
            relayed = runtime.relay.drain()
            SimpleWorker([queue], connection=queue.connection).work(burst=True)
            click.echo(f"Relayed {relayed} events; ran the queued jobs.")
            return
        runtime.start_relay()
        housekeeping.start(runtime.db, settings, stop_housekeeping)
        click.echo(f"Worker: relaying the outbox and running jobs from RQ queue {settings.rq_queue!r}.")
        _work_through_redis_outages(lambda: SimpleWorker([queue], connection=queue.connection))
    finally:
        stop_housekeeping.set()
        set_worker_runtime(None)
        runtime.close()


def _work_through_redis_outages(make_worker: Callable[[], Any]) -> None:
    """Run RQ until stopped. RQ survives a lost Redis connection only while it waits for a job; a
    connection lost during its own bookkeeping ends `work()` with an error. The database, not the
    queue, holds the work to do (the relay re-sends what was lost), so start again after a pause
    instead of leaving the process dead until a supervisor notices."""
    import time

    import redis

    while True:
        try:
            make_worker().work(with_scheduler=False)
            return
        except redis.exceptions.ConnectionError as exc:
            log.warning("Lost Redis while running jobs (%s); starting again in 2 s.", exc)
            time.sleep(2)


def _wait_forever() -> None:
    import threading

    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("Stopping.")


@main.command(short_help="Load demo data, then serve.")
@click.option(
    "--citizens",
    default=300,
    show_default=True,
    type=click.IntRange(min=0),
    help="How many demo e-citizens to create.",
)
@click.option("--serve/--no-serve", "then_serve", default=True, help="Serve the site after loading.")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
def demo(citizens: int, then_serve: bool, host: str | None, port: int | None) -> None:
    """Migrate, load realistic demo data, and serve.

    Idempotent: a second run adds only what is missing, so it is safe to run on every start.
    """
    from civic.demo import AGENCIES, OFFICIALS, load_demo

    settings = _settings()
    _ready(settings)
    _redis_ready(settings)
    _migrate(settings.effective_database_url, "head")
    runtime = _build_runtime(settings)
    try:
        click.echo(
            f"Demo data: {len(AGENCIES)} agencies, {len(OFFICIALS)} officials, {citizens} e-citizens …"
        )
        total = len(AGENCIES) + len(OFFICIALS) + citizens
        with click.progressbar(length=total, label="Loading", file=sys.stderr) as bar:
            report = load_demo(runtime, citizens=citizens, progress=bar.update)
        click.echo("Publishing the events …")
        relayed = runtime.relay.drain()
    finally:
        runtime.close()
    _print_demo_report(settings, report, relayed, citizens)
    if then_serve:
        _serve(settings, host, port, None)


def _print_demo_report(settings: Settings, report: DemoReport, relayed: int, citizens: int) -> None:
    from civic.demo import OFFICIAL_DOMAIN, OFFICIALS

    added = (
        f"added {report.agencies} agencies, {report.officials} officials, {report.citizens} e-citizens "
        f"({report.verified} verified); published {relayed} events"
    )
    part = report.participation
    added += (
        f"; {part.consultations} consultations, {part.proposals} proposals, {part.supports} supports, "
        f"{part.comments} comments"
    )
    lead = report.leadership
    added += f"; {lead.answers} official answers, {lead.reports} reports, {lead.cases} moderation cases"
    if report.agencies or report.officials or report.citizens or part.consultations or lead.answers:
        click.echo(f"Done: {added}.")
    else:
        click.echo(f"Nothing new: the demo data was already loaded ({added}).")
    click.echo(f"Demo logins (password: {settings.demo_password}):")
    for local, name, _slug, roles in OFFICIALS:
        login = f"{local}@{OFFICIAL_DOMAIN}"
        click.echo(f"  {login:<34} {name} — {', '.join(r.value for r in roles)}")
    if citizens:
        click.echo(f"  citizen001@demo.civic.az … citizen{citizens:03d}@demo.civic.az  e-citizens")


# The command groups of the modules live beside this file; they use the helpers above through
# this module (so a test can replace one), hence registered last.
from civic.cli import bench as _bench  # noqa: E402
from civic.cli import engagement as _engagement  # noqa: E402
from civic.cli import i18n as _i18n  # noqa: E402
from civic.cli import ledger as _ledger  # noqa: E402
from civic.cli import notifications as _notifications  # noqa: E402

main.add_command(_bench.bench)
main.add_command(_engagement.engagement)
main.add_command(_notifications.notifications)
main.add_command(_ledger.ledger)
main.add_command(_i18n.i18n)


if __name__ == "__main__":
    main()
