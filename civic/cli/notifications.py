"""`civic notifications`: the e-mail digest."""

from __future__ import annotations

import click

import civic.cli as cli


@click.group(short_help="Notifications: the e-mail digest.")
def notifications() -> None:
    """Citizens' notifications beyond the site: the e-mail digest."""


@notifications.command("send-digest", short_help="Mail each account its unread notifications.")
def notifications_send_digest() -> None:
    """Mail every account its unread notifications since its last digest (those it switched off
    in its preferences left out). Through SMTP when CIVIC_SMTP_URL is set; otherwise each mail is
    written as an .eml file under var/mail/. Safe to run again: nothing is mailed twice."""
    from civic.leadership.digest import mailer_for, send_digests

    settings = cli._settings()
    try:
        mailer = mailer_for(settings)
    except ValueError as exc:
        raise click.ClickException(f"{exc} (CIVIC_SMTP_URL)") from exc
    runtime = cli._build_runtime(settings)
    try:
        report = send_digests(runtime.db, settings, mailer=mailer)
    finally:
        runtime.close()
    where = (
        "through SMTP" if getattr(settings, "smtp_url", "") else f"as files in {settings.var_dir / 'mail'}"
    )
    click.echo(f"Done: {report.accounts} digests with {report.notifications} notifications sent {where}.")
    if report.failures:
        for failure in report.failures:
            click.echo(f"Failed: {failure}", err=True)
        raise click.ClickException(
            f"{len(report.failures)} digests could not be sent; run again to retry them."
        )
