"""`civic bench` / `python -m bench`: run the suite, print the table, write the JSON."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bench.common import ServicesMissing
from bench.suite import BENCHMARKS, notes, run_suite, table, write


@click.command(short_help="Run every benchmark against its baseline.")
@click.option("--quick", is_flag=True, help="Small sizes (under a minute of measuring): a smoke check.")
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice(list(BENCHMARKS)),
    help="Run only this benchmark (repeatable).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("bench-results/latest.json"),
    show_default=True,
    help="Where to write the results as JSON.",
)
def bench(quick: bool, only: tuple[str, ...], out: Path) -> None:
    """Run civic's benchmarks, each against a baseline measured in the same run.

    Needs PostgreSQL (an admin URL in CIVIC_BENCH_PG_URL, default
    postgresql+psycopg://postgres@127.0.0.1:5432/postgres; a database civic_bench_<random> is
    created and dropped) and Redis (CIVIC_BENCH_REDIS_URL, default redis://127.0.0.1:6379/0; keys
    under civicbench:<random>, deleted afterwards). Full mode takes about 10 minutes on 2 cores;
    other work on the machine moves absolute numbers, ratios much less.
    """
    names = " ".join(only) if only else ", ".join(BENCHMARKS)
    click.echo(f"civic bench ({'quick' if quick else 'full'}): {names}", err=True)
    try:
        result = run_suite(quick, list(only))
    except ServicesMissing as exc:
        raise click.ClickException(str(exc)) from exc
    write(result, out)
    click.echo("")
    click.echo(table(result))
    click.echo("")
    click.echo(notes(result))
    click.echo(f"\nResults written to {out}")
    failed = [name for name, entry in result["benchmarks"].items() if "error" in entry]
    if failed:
        click.echo(f"Failed: {', '.join(failed)} (tracebacks in {out})", err=True)
        sys.exit(1)
