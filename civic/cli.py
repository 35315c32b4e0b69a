"""The `civic` command: serve, worker, migrate, demo."""

from __future__ import annotations

import logging
import sys

import click

from civic.settings import ConfigurationError, Mode, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:  # pydantic's ValidationError wraps ours
        raise click.ClickException(f"The configuration is not valid: {exc}") from exc


def _ready(settings: Settings) -> None:
    try:
        settings.require_production_ready()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


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


@main.command()
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
def migrate(revision: str) -> None:
    """Bring the database schema up to date (Alembic upgrade)."""
    from civic.migrate import upgrade

    settings = _settings()
    url = settings.effective_database_url
    click.echo(f"Migrating {_redact(url)} to {revision} …")
    try:
        upgrade(url, revision)
    except Exception as exc:
        raise click.ClickException(
            f"Migration failed: {exc}\nCheck that the database at CIVIC_DATABASE_URL is reachable and that you may create tables."
        ) from exc
    click.echo("Database is up to date.")


def _serve(settings: Settings, host: str | None, port: int | None, workers: int | None) -> None:
    import uvicorn

    _ready(settings)
    count = workers or settings.web_concurrency
    if count > 1 and settings.mode is Mode.EMBEDDED:
        raise click.ClickException(
            "Several web processes need production mode: the embedded event bus lives inside one process. "
            "Set CIVIC_DATABASE_URL (PostgreSQL) and CIVIC_REDIS_URL, or use --workers 1."
        )
    host = host or settings.host
    port = port or settings.port
    click.echo(f"civic ({settings.mode.value} mode) serving on http://{host}:{port}/  — Ctrl+C to stop")
    uvicorn.run(
        "civic.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=count,
        ws_per_message_deflate=False,
        proxy_headers=True,
        log_level=settings.log_level,
    )


@main.command()
@click.option("--host", default=None, help="Interface to listen on (CIVIC_HOST, default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (CIVIC_PORT, default 8000).")
@click.option(
    "--workers", default=None, type=int, help="Web processes (CIVIC_WEB_CONCURRENCY; production only)."
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web site and API with uvicorn."""
    _serve(_settings(), host, port, workers)


@main.command()
@click.option("--burst", is_flag=True, help="Relay and run everything that is due now, then exit.")
def worker(burst: bool) -> None:
    """Relay outbox events to the bus and run event handlers as jobs (RQ in production)."""
    from civic.runtime import build_runtime, set_worker_runtime

    settings = _settings()
    _ready(settings)
    _configure_logging(settings)
    runtime = build_runtime(settings)
    set_worker_runtime(runtime)
    try:
        if settings.mode is Mode.EMBEDDED:
            click.echo(
                "Embedded mode: `civic serve` relays events itself; this worker relays and runs handlers inline."
            )
            if burst:
                click.echo(f"Relayed {runtime.relay.drain()} events.")
                return
            runtime.start_relay()
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
        click.echo(f"Worker: relaying the outbox and running jobs from RQ queue {settings.rq_queue!r}.")
        SimpleWorker([queue], connection=queue.connection).work(with_scheduler=False)
    finally:
        set_worker_runtime(None)
        runtime.close()


def _wait_forever() -> None:
    import threading

    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("Stopping.")


@main.command()
@click.option("--citizens", default=300, show_default=True, help="How many demo e-citizens to create.")
@click.option("--serve/--no-serve", "then_serve", default=True, help="Serve the site after loading.")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
def demo(citizens: int, then_serve: bool, host: str | None, port: int | None) -> None:
    """Migrate, load realistic demo data (idempotent), and serve."""
    from civic.demo import AGENCIES, OFFICIAL_DOMAIN, OFFICIALS, load_demo
    from civic.migrate import upgrade
    from civic.runtime import build_runtime

    settings = _settings()
    _ready(settings)
    click.echo(f"Migrating {_redact(settings.effective_database_url)} …")
    upgrade(settings.effective_database_url)
    runtime = build_runtime(settings)
    try:
        total = len(AGENCIES) + len(OFFICIALS) + citizens
        with click.progressbar(length=total, label="Loading demo data", file=sys.stderr) as bar:
            report = load_demo(runtime, citizens=citizens, progress=bar.update)
        relayed = runtime.relay.drain()
    finally:
        runtime.close()
    click.echo(
        f"Added {report.agencies} agencies, {report.officials} officials, {report.citizens} e-citizens "
        f"({report.verified} verified); relayed {relayed} events."
    )
    click.echo(f"Demo logins (password: {settings.demo_password}):")
    for local, name, _slug, roles in OFFICIALS:
        login = f"{local}@{OFFICIAL_DOMAIN}"
        click.echo(f"  {login:<34} {name} — {', '.join(r.value for r in roles)}")
    click.echo(f"  citizen001@demo.civic.az … citizen{citizens:03d}@demo.civic.az  e-citizens")
    if then_serve:
        _serve(settings, host, port, None)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


if __name__ == "__main__":
    main()
