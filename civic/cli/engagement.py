"""`civic engagement`: recompute badges, levels and leaderboards from source data."""

from __future__ import annotations

import sys

import click

import civic.cli as cli
from civic.settings import ConfigurationError, Settings


@click.group(short_help="Points, badges, levels and leaderboards.")
def engagement() -> None:
    """Recompute what engagement derives from source data (after editing rules.toml or badges.toml)."""


def _engagement_runtime(settings: Settings):  # type: ignore[no-untyped-def]
    """A runtime for engagement's commands (which reads and checks both engagement files) and the
    production Redis leaderboards, if any."""
    from civic.engagement.boards import attach

    cli._ready(settings)
    cli._database_ready(settings)
    cli._redis_ready(settings)
    runtime = cli._build_runtime(settings)
    return runtime, attach(runtime.db.engine, settings)


@engagement.command(short_help="Recompute badges and levels from source data.")
@click.option(
    "--points",
    is_flag=True,
    help="Also rebuild the points ledger and leaderboards from the outbox (rules.toml changed).",
)
@click.option(
    "--notify", is_flag=True, help="Announce newly reached badge levels and level changes to citizens."
)
def reset(points: bool, notify: bool) -> None:
    """Recount every e-citizen's badges and level from participation's data, identity's verifications
    and the moderation events; with --points, rebuild the ledger first. Safe to run again."""
    from civic.engagement.badges import load_badges
    from civic.engagement.reset import count_citizens
    from civic.engagement.reset import reset as reset_engagement
    from civic.engagement.rules import load_rules

    settings = cli._settings()
    runtime, redis_boards = _engagement_runtime(settings)
    try:
        badges, rules = load_badges(), (load_rules() if points else None)
        total = count_citizens(runtime.db)
        if points:
            click.echo("Rebuilding the points ledger and leaderboards from the outbox …")
        with click.progressbar(length=total, label="Recounting citizens", file=sys.stderr) as bar:
            report = reset_engagement(
                runtime.db, badges, rules=rules, redis_boards=redis_boards, notify=notify, progress=bar.update
            )
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        runtime.close()
    by_level = ", ".join(f"level {level}: {count}" for level, count in report.levels.items()) or "none"
    points_note = f"; {report.balances} citizens hold points" if report.balances is not None else ""
    click.echo(
        f"Done: {report.citizens} e-citizens recounted ({by_level}); {report.badge_levels} badge levels held; "
        f"{report.moderation_events} moderation events read{points_note}."
    )


@engagement.group(short_help="Leaderboards.")
def leaderboards() -> None:
    """Leaderboards: global, per consultation, per district; all time, month, week."""


@leaderboards.command("rebuild", short_help="Rebuild every leaderboard from the points ledger.")
def leaderboards_rebuild() -> None:
    """Recompute every board from the ledger, in SQL and, in production, in Redis (replacing it)."""
    from civic.engagement.reset import rebuild_leaderboards
    from civic.engagement.rules import load_rules

    settings = cli._settings()
    runtime, redis_boards = _engagement_runtime(settings)
    try:
        with click.progressbar(length=1, label="Rebuilding leaderboards", file=sys.stderr) as bar:
            kept = rebuild_leaderboards(runtime.db, load_rules(), redis_boards)
            bar.update(1)
    finally:
        runtime.close()
    where = "SQL and Redis" if redis_boards is not None else "SQL (embedded mode)"
    click.echo(f"Done: {kept} leaderboard scores rebuilt from the ledger in {where}.")
