"""`civic bench`: the benchmark suite under bench/ (issue #9), reachable from the one command.

The suite lives beside the package in the source tree, not inside it (it starts servers, load
generators and a baseline app that are no part of civic); this command finds it from this
checkout and explains what to do when it is not there (an installed wheel has no bench/).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

REPO = Path(__file__).resolve().parents[2]


def _load_suite() -> click.Command:
    if (REPO / "bench" / "suite.py").exists() and str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    try:
        from bench.cli import bench as command
    except ImportError as exc:
        raise click.ClickException(
            f"The benchmark suite (bench/ in the source tree) cannot be imported: {exc}. "
            "Run `civic bench` from a checkout of civic (pip install -e .)."
        ) from exc
    return command


@click.command(
    short_help="Run every benchmark against its baseline.",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: tuple[str, ...]) -> None:
    """Run civic's benchmarks (bench/): `civic bench [--quick] [--only NAME] [--out FILE]`;
    `civic bench --help` for the options."""
    _load_suite().main(list(args), prog_name="civic bench", standalone_mode=True)
