"""Notification preferences and the e-mail digest: each account gets its unread notifications since
its last digest, once, without the kinds it switched off; through a real SMTP server when one is
configured, as readable .eml files otherwise; one failing account does not stop the others, and
its notifications wait for the next run."""

from __future__ import annotations

import email
import email.header
import socketserver
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from civic.clock import utcnow
from civic.errors import NotAuthenticated
from civic.identity.models import Account
from civic.leadership import digest, notifications
from civic.leadership.models import Notification, NotificationSettings
from civic.runtime import Runtime
from tests.leadership.conftest import Scene
from tests.participation.conftest import OpenBrowser

LATER = timedelta(minutes=2)  # past the digest's commit margin


def notify(
    runtime: Runtime, account: Account, title: str, kind: str = "proposal.answered", at: Any = None
) -> Notification:
    with runtime.db.transaction() as s:
        n = notifications.do_notify(
            s, account.id, str(uuid.uuid4()), kind, title, "Line one.\n\nLine two.", "/proposals/1"
        )
        assert n is not None
        if at is not None:
            n.created_at = at
            s.add(n)
        return n


def mails(directory: Path) -> list[Message]:
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(directory.glob("*.eml"))]


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def run(runtime: Runtime, tmp_path: Path, later: timedelta = LATER, **kwargs: Any) -> digest.DigestReport:
    settings = SimpleNamespace(var_dir=tmp_path / "var", base_url="https://civic.example.az", smtp_url="")
    return digest.send_digests(runtime.db, settings, now=utcnow() + later, **kwargs)


def test_the_digest_mails_unread_notifications_once_as_files(
    runtime: Runtime, scene: Scene, tmp_path: Path
) -> None:
    w = scene.world
    notify(runtime, w.leyla, "Your proposal was answered: accepted")
    read = notify(runtime, w.leyla, "Already read")
    notify(runtime, w.kamal, "The proposal you support was answered")
    with runtime.db.transaction() as s:
        notifications.mark_read(s, w.leyla, [read.id])

    report = run(runtime, tmp_path)
    assert (report.accounts, report.notifications, report.failures) == (2, 2, [])
    sent = {m["To"]: m for m in mails(tmp_path / "var" / "mail")}
    to_leyla = sent[f"{w.leyla.display_name} <{w.leyla.email}>"]
    assert to_leyla["Subject"] == "civic: 1 new notification"
    text = body(to_leyla)
    assert "Your proposal was answered: accepted" in text and "Line two." in text
    assert "https://civic.example.az/proposals/1" in text and "Already read" not in text
    assert "https://civic.example.az/notifications/preferences" in text

    assert run(runtime, tmp_path).accounts == 0  # nothing new: nothing mailed again
    # After the first digest's window (which ended a minute before its run):
    notify(runtime, w.leyla, "A second answer", at=utcnow() + timedelta(minutes=1, seconds=30))
    again = run(runtime, tmp_path, later=timedelta(minutes=4))
    assert (again.accounts, again.notifications) == (1, 1)
    latest = mails(tmp_path / "var" / "mail")
    assert len(latest) == 3 and sum("A second answer" in body(m) for m in latest) == 1


def test_kinds_switched_off_are_left_out(runtime: Runtime, scene: Scene, tmp_path: Path) -> None:
    w = scene.world
    with runtime.db.transaction() as s:
        notifications.save_preferences(s, w.leyla, toast=set(), email={"proposal.answered"})
    notify(runtime, w.leyla, "Answered", "proposal.answered")
    notify(runtime, w.leyla, "Hidden by a moderator", "moderation.decided")
    report = run(runtime, tmp_path)
    assert report.notifications == 1
    [mail] = mails(tmp_path / "var" / "mail")
    assert "Answered" in body(mail) and "Hidden by a moderator" not in body(mail)


def test_the_digest_is_written_in_the_recipients_language(
    runtime: Runtime, scene: Scene, tmp_path: Path
) -> None:
    """The digest is composed in a job, outside any request: it speaks the account's own language."""
    w = scene.world
    with runtime.db.transaction() as s:
        leyla = s.get(Account, w.leyla.id)
        assert leyla is not None
        leyla.language = "az"
        s.add(leyla)
    notify(runtime, w.leyla, "Təklifinizə cavab verildi")
    notify(runtime, w.leyla, "Yenə cavab verildi")
    notify(runtime, w.kamal, "Your proposal was answered: accepted")

    assert run(runtime, tmp_path).accounts == 2
    sent = {m["To"]: m for m in mails(tmp_path / "var" / "mail")}
    to_leyla = sent[f"{w.leyla.display_name} <{w.leyla.email}>"]
    assert str(email.header.make_header(email.header.decode_header(to_leyla["Subject"]))) == (
        "civic: 2 yeni bildiriş"
    )
    assert to_leyla["Content-Language"] == "az"
    text = body(to_leyla)
    assert text.startswith(f"Hörmətli {w.leyla.display_name},")
    assert "Son xülasədən bəri baş verənlər:" in text and "Təklifinizə cavab verildi" in text
    assert "Bütün bildirişləriniz: https://civic.example.az/notifications" in text
    assert "Hello" not in text
    to_kamal = sent[f"{w.kamal.display_name} <{w.kamal.email}>"]  # the default: English
    assert to_kamal["Subject"] == "civic: 1 new notification" and body(to_kamal).startswith("Hello ")


class _Sink(socketserver.StreamRequestHandler):
    """Just enough SMTP to take one message (no extensions, no auth)."""

    def handle(self) -> None:
        def say(line: str) -> None:
            self.wfile.write(f"{line}\r\n".encode())

        say("220 sink ready")
        while raw := self.rfile.readline():
            verb = raw.decode().strip().upper()
            if verb.startswith(("HELO", "EHLO")):
                say("250 sink")
            elif verb.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                say("250 ok")
            elif verb == "DATA":
                say("354 go on")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                self.server.received.append(b"".join(lines))  # type: ignore[attr-defined]
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("502 no")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Sink)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_the_digest_goes_through_smtp_and_a_failed_send_waits_for_the_next_run(
    runtime: Runtime, scene: Scene, tmp_path: Path, smtp_server: socketserver.ThreadingTCPServer
) -> None:
    w = scene.world
    notify(runtime, w.leyla, "Answered over SMTP")

    closed = socketserver.TCPServer(("127.0.0.1", 0), _Sink)
    dead_port = closed.server_address[1]
    closed.server_close()  # nothing listens there any more
    failed = run(runtime, tmp_path, mailer=digest.SmtpMailer(f"smtp://127.0.0.1:{dead_port}", timeout=2))
    assert (
        failed.accounts == 0 and len(failed.failures) == 1 and f"account {w.leyla.id}" in failed.failures[0]
    )
    assert "@" not in failed.failures[0], "a failure line names the account, never its address"
    with runtime.db.transaction() as s:
        row = s.get(NotificationSettings, w.leyla.id)
        assert row is None or row.digest_sent_at is None  # rolled back: still due

    port = smtp_server.server_address[1]
    settings = SimpleNamespace(
        var_dir=tmp_path / "var", base_url="http://x", smtp_url=f"smtp://127.0.0.1:{port}"
    )
    report = digest.send_digests(runtime.db, settings, now=utcnow() + LATER)
    assert (report.accounts, report.failures) == (1, [])
    [raw] = smtp_server.received  # type: ignore[attr-defined]
    message = email.message_from_bytes(raw)
    assert message["Subject"] == "civic: 1 new notification" and "Answered over SMTP" in body(message)
    assert not (tmp_path / "var" / "mail").exists()


def test_mail_server_urls() -> None:
    assert isinstance(digest.mailer_for(SimpleNamespace(var_dir=Path("v"))), digest.FileMailer)
    assert isinstance(
        digest.mailer_for(SimpleNamespace(smtp_url="smtps://u:p@mail.example:465")), digest.SmtpMailer
    )
    with pytest.raises(ValueError, match=r"smtp\+starttls://") as refused:
        digest.mailer_for(SimpleNamespace(smtp_url="http://u:secret@mail.example"))
    assert "secret" not in str(refused.value)


def test_the_send_digest_command(
    runtime: Runtime, scene: Scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civic import cli

    notify(runtime, scene.world.leyla, "Answered, by command")
    settings = runtime.settings.model_copy(update={"var_dir": tmp_path / "cli-var"})
    monkeypatch.setattr(cli, "_settings", lambda: settings)
    monkeypatch.setattr(digest, "COMMIT_MARGIN", timedelta(0))
    result = CliRunner().invoke(cli.main, ["notifications", "send-digest"])
    assert result.exit_code == 0, result.output
    assert "1 digests with 1 notifications sent as files in" in result.output
    assert len(mails(tmp_path / "cli-var" / "mail")) == 1


# ---- preferences -------------------------------------------------------------------------------


def test_preferences_page_and_live_state(runtime: Runtime, scene: Scene, browser: OpenBrowser) -> None:
    w = scene.world
    notify(runtime, w.leyla, "Unread one")
    leyla = browser(w.leyla)
    assert leyla.get("/notifications/live.json").json() == {"unread": 1, "no_toast": []}

    page = leyla.get("/notifications/preferences")
    assert page.status_code == 200
    assert page.text.count('type="checkbox"') == len(notifications.KINDS) + sum(
        k.email for k in notifications.KINDS
    )
    saved = leyla.client.post(
        "/notifications/preferences",
        data={
            "csrf_token": leyla.token,
            "toast:proposal.answered": "1",
            "email:moderation.decided": "1",
            "toast:nonsense": "1",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/notifications/preferences?done=saved"
    state = leyla.get("/notifications/live.json").json()
    assert "proposal.answered" not in state["no_toast"] and "badge.earned" in state["no_toast"]
    with runtime.db.transaction() as s:
        row = s.get(NotificationSettings, w.leyla.id)
        assert (
            row is not None
            and "proposal.answered" in row.no_email
            and "moderation.decided" not in row.no_email
        )
    again = leyla.get("/notifications/preferences?done=saved")
    assert "Your preferences are saved." in again.text

    assert browser().get("/notifications/live.json").status_code == 401
    anonymous = browser().client.get("/notifications/preferences", follow_redirects=False)
    assert anonymous.status_code == 303
    with runtime.db.transaction() as s, pytest.raises(NotAuthenticated):
        notifications.save_preferences(s, None, toast=set(), email=set())


def test_a_refused_recipient_is_reported_without_its_address() -> None:
    import smtplib

    refused = smtplib.SMTPRecipientsRefused({"leyla@example.az": (550, b"5.1.1 leyla@example.az unknown")})
    assert str(refused) and "leyla@example.az" in str(refused)  # what smtplib would have printed
    assert digest._failure(refused) == "SMTPRecipientsRefused"
    assert digest._failure(smtplib.SMTPDataError(554, b"rejected")) == "SMTPDataError (SMTP 554)"
