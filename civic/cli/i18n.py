"""`civic i18n`: keep the translation catalogs in step with the code."""

from __future__ import annotations

import click

from civic.i18n.tool import TRANSLATED_LOCALES, problems, update


@click.group(short_help="Translation catalogs: update and check.")
def i18n() -> None:
    """The gettext catalogs under civic/locale/ (English is the source language)."""


AREA = click.option("--area", default=None, help="Only this area's file (participation, leadership, …).")


@i18n.command("update")
@AREA
def update_command(area: str | None) -> None:
    """Add strings new in the code (empty, to translate) and drop the ones no longer used."""
    for locale in TRANSLATED_LOCALES:
        counts = update(locale, area)
        click.echo(f"{locale}: {counts['added']} added, {counts['removed']} removed")
    click.echo("Now translate the empty entries, then run `civic i18n check`.")


@i18n.command("check")
@AREA
def check_command(area: str | None) -> None:
    """Fail when a string shown to people is missing, untranslated, fuzzy or has other placeholders."""
    found = 0
    for locale in TRANSLATED_LOCALES:
        for problem in problems(locale, area=area):
            click.echo(f"{locale}: {problem}")
            found += 1
    if found:
        raise click.ClickException(f"{found} catalog problem(s); run `civic i18n update`, then translate.")
    click.echo("Every string is translated.")
