"""The e-mail digest: each account's unread notifications since its last digest, in one mail.

`civic notifications send-digest` runs it (from cron, or by hand). With `smtp_url` configured
(CIVIC_SMTP_URL: `smtp://host:25`, `smtp+starttls://user:password@host:587` or
`smtps://user:password@host:465`) the mails go through SMTP; without it (the embedded mode) each
is written as an .eml file under `var/mail/` so it can be opened and read.

Each account is handled in its own transaction that locks its settings row, so two runs at once
cannot mail the same notification twice; the mail is sent before that transaction commits, so a
failed send leaves the window open for the next run (at least once, never silently lost). The
window ends a minute before the run: a notification whose transaction was still committing when
the run started has an older `created_at` than its commit, and must not fall between two windows.
What was read on the site meanwhile is not mailed: the digest is for what one has not seen.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from civic.clock import utcnow
from civic.db import Database
from civic.i18n import LOCALES, _, ngettext, using
from civic.identity.models import Account
from civic.leadership.models import Notification, NotificationSettings

COMMIT_MARGIN = timedelta(minutes=1)
DEFAULT_FROM = "civic <no-reply@civic.invalid>"
SMTP_TIMEOUT_SECONDS = 30.0


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass
class FileMailer:
    """Writes each mail as `<time>-<random>.eml` in `directory` (the embedded mode's outbox)."""

    directory: Path

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow().strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (self.directory / name).write_bytes(bytes(message))


@dataclass
class SmtpMailer:
    """Sends through the SMTP server named by `url` (see the module's docstring for the schemes)."""

    url: str
    timeout: float = SMTP_TIMEOUT_SECONDS

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme.lower() not in ("smtp", "smtp+starttls", "smtps") or not parts.hostname:
            raise ValueError(
                f"The mail server URL {redact(self.url)!r} cannot be used: "
                "write smtp://host:25, smtp+starttls://user:password@host:587 or smtps://user:password@host:465."
            )

    def send(self, message: EmailMessage) -> None:
        parts = urlsplit(self.url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        if scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, parts.port or 465, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(
                host, parts.port or (587 if scheme == "smtp+starttls" else 25), timeout=self.timeout
            )
        with client:
            if scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(message)


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def mailer_for(settings: object) -> Mailer:
    """SMTP when `smtp_url` is set, else .eml files under `<var_dir>/mail`."""
    url = str(getattr(settings, "smtp_url", "") or "")
    if url:
        return SmtpMailer(url)
    return FileMailer(Path(getattr(settings, "var_dir", Path("var"))) / "mail")


@dataclass
class DigestReport:
    accounts: int = 0  # digests sent
    notifications: int = 0  # notifications in them
    failures: list[str] = field(default_factory=list)  # "account 12: what went wrong"


def compose(account: Account, items: list[Notification], *, base_url: str, sender: str) -> EmailMessage:
    """One plain-text mail listing `items`, newest last, each with its link, in the account's
    language (the notifications' own titles were written in it when they were created)."""
    base = base_url.rstrip("/")
    message = EmailMessage()
    count = len(items)
    with using(account.language):
        subject = ngettext("civic: %(num)s new notification", "civic: %(num)s new notifications", count)
        lines = [
            _("Hello %(name)s,", name=account.display_name),
            "",
            _("Here is what happened since your last digest:"),
            "",
        ]
        for n in items:
            lines.append(f"* {n.title}")
            if n.body:
                lines.extend(f"  {line}" if line else "" for line in n.body.splitlines())
            if n.url:
                lines.append(f"  {base}{n.url}" if n.url.startswith("/") else f"  {n.url}")
            lines.append("")
        inbox, preferences = base + "/notifications", base + "/notifications/preferences"
        lines += [
            _("All your notifications: %(url)s", url=inbox),
            _("Choose what you receive: %(url)s", url=preferences),
        ]
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = formataddr((account.display_name, account.email))
    message["Message-ID"] = make_msgid(domain="civic.invalid")
    message.set_content("\n".join(lines))
    if account.language in LOCALES:  # after set_content, which replaces every Content-* header
        message["Content-Language"] = account.language
    return message


def _lock_settings(session: Session, account_id: int) -> NotificationSettings:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(NotificationSettings)
        .values(account_id=account_id, no_toast=[], no_email=[], updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["account_id"])
    )
    return session.exec(
        select(NotificationSettings)
        .where(NotificationSettings.account_id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def digest_one(
    session: Session, account_id: int, cutoff: datetime, mailer: Mailer, *, base_url: str, sender: str
) -> int:
    """Mail `account_id` its unread notifications of (last digest, cutoff]; returns how many."""
    row = _lock_settings(session, account_id)
    account = session.get(Account, account_id)
    where = [
        Notification.account_id == account_id,
        col(Notification.read_at).is_(None),
        col(Notification.created_at) <= cutoff,
    ]
    if row.digest_sent_at is not None:
        where.append(col(Notification.created_at) > row.digest_sent_at)
    if row.no_email:
        where.append(col(Notification.kind).not_in(row.no_email))
    items = list(
        session.exec(
            select(Notification).where(*where).order_by(col(Notification.created_at), col(Notification.id))
        ).all()
    )
    row.digest_sent_at = cutoff
    session.add(row)
    if not items or account is None or not account.is_active:
        return 0
    mailer.send(compose(account, items, base_url=base_url, sender=sender))
    return len(items)


def send_digests(
    db: Database,
    settings: object,
    *,
    mailer: Mailer | None = None,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> DigestReport:
    """Send every due digest; one account's failure is reported, not fatal to the others."""
    cutoff = (now or utcnow()) - COMMIT_MARGIN
    mailer = mailer or mailer_for(settings)
    base_url = str(getattr(settings, "base_url", "") or "")
    sender = str(getattr(settings, "mail_from", "") or DEFAULT_FROM)
    with db.transaction() as session:
        account_ids = list(
            session.exec(
                select(Notification.account_id)
                .where(col(Notification.read_at).is_(None), col(Notification.created_at) <= cutoff)
                .distinct()
                .order_by(col(Notification.account_id))
            ).all()
        )
    report = DigestReport()
    for account_id in account_ids:
        try:
            with db.transaction() as session:
                sent = digest_one(session, account_id, cutoff, mailer, base_url=base_url, sender=sender)
        except Exception as exc:  # noqa: BLE001 — reported per account; the others still get theirs
            report.failures.append(f"account {account_id}: {_failure(exc)}")
        else:
            if sent:
                report.accounts += 1
                report.notifications += sent
        if progress is not None:
            progress(1)
    return report


def _failure(exc: Exception) -> str:
    """What went wrong, without the exception's text: smtplib puts the recipient's address in it
    (SMTPRecipientsRefused), and this line goes to stderr and log collectors."""
    code = getattr(exc, "smtp_code", None)
    return f"{exc.__class__.__name__}" + (f" (SMTP {code})" if code else "")
