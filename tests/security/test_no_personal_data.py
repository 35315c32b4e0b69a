"""No personal data where it must never appear: logs, events, open-data exports, ledger records.

The demo is loaded into a fresh embedded database (the real CLI, 40 e-citizens), then the trust
machinery is exercised the way it is used: citizens fill in their vault (directly and over HTTP), a
registrar verifies someone with a note, consents are given (unprompted and in answer to a request),
and an official reads through the gate (allowed and refused, directly and over HTTP). Some requests
fail on purpose: a wrong password, a 422 carrying a vault value, a 422 registration.

Every log record of the whole run (civic, uvicorn, starlette and httpx at DEBUG; anything else at
WARNING and above), every outbox event, every ledger record and both open-data exports of every
published consultation are then scanned for the personal values: every account's e-mail, the demo
password, the wrong password typed, the vault values set, the registrar's note. Display names are
public by design (they sign proposals) and are not looked for. Choice-valued vault attributes
("female", "retired") are not looked for either: they are words any text may contain.

The scanner is proven to find a planted value first, so a pass means "not there", not "not looked".
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from civic.app import create_app
from civic.events.models import OutboxEvent
from civic.identity import actions as identity_actions
from civic.identity.models import Account, AccountKind, Agency, VerificationLevel, VerificationRecord
from civic.identity.schemas import VerificationRequest
from civic.participation.models import Consultation
from civic.runtime import Runtime, build_runtime
from civic.settings import Settings
from civic.trust import consents, gate, requests, vault
from civic.trust.keys import trust_keys
from civic.trust.ledger_models import LedgerRecord
from civic.trust.schemas import AnswerInput, ProactiveInput, RequestInput
from tests.conftest import FAST_ARGON2
from tests.test_demo import run_demo

CITIZENS = 40
DEMO_PASSWORD = Settings().demo_password
WRONG_PASSWORD = "Wr0ng-Passw0rd-Typed-By-Aysel"
NOTE = "Passport AZE 10293847 checked at the Yasamal counter"
REFUSED_REGISTRATION = "newcomer.private.1990@mail.example"
PUBLIC_KINDS = ("consultation:", "proposal:")  # anyone may follow these (civic/realtime/topics.py)
EMAIL_SHAPE = re.compile(r"[^\s@\"'<>]+@[^\s@\"'<>]+\.[a-z]{2,}", re.IGNORECASE)
PURPOSE = "contact_about_proposal"

# Distinctive vault values (free text, e-mail, phone) for three e-citizens; the third is set over HTTP.
VAULT_DIRECT = [
    {
        "contact_email": "aysel.private.1987@mail.example",
        "contact_phone": "+994 50 765 43 21",
        "district": "Yasamal, Şərifzadə küçəsi 17",
    },
    {"contact_email": "murad.at.home@mail.example", "contact_phone": "+994 55 111 22 33"},
]
VAULT_HTTP = {"contact_email": "gunay.secret@mail.example", "contact_phone": "+994 70 987 65 43"}
VAULT_REJECTED = {"contact_email": "orxan.never.stored@mail.example", "contact_phone": "not a phone"}


# ---- the scanner ------------------------------------------------------------------------------


def leaks(text: str, values: Iterable[str]) -> set[str]:
    """The personal values found in `text` (case-insensitive: e-mail addresses are)."""
    folded = text.casefold()
    return {v for v in values if v and v.casefold() in folded}


def as_text(value: Any) -> str:
    """A JSON-able value as text with non-ASCII kept as is, so an escaped "ş" is still found."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


class Collector(logging.Handler):
    """Keeps every record it sees, formatted the way a log file would show it, plus its raw parts."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, str]] = []  # (logger name, everything a log line could carry)
        self._format = logging.Formatter("%(levelname)s %(name)s: %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("sqlalchemy") and record.levelno < logging.WARNING:
            return  # SQL echo with parameters: a debugging switch civic never turns on
        try:
            line = self._format.format(record)
        except Exception as exc:  # a record that cannot be formatted still has its parts scanned
            line = f"<unformattable: {exc!r}>"
        self.records.append((record.name, f"{line}\n{record.msg!r}\n{record.args!r}\n{vars(record)!r}"))


VERBOSE = ("civic", "uvicorn", "uvicorn.access", "uvicorn.error", "starlette", "httpx")


@dataclass
class Scanned:
    personal: set[str]
    events: list[OutboxEvent]
    ledger: list[str]
    exports: dict[str, str]
    logs: list[tuple[str, str]]
    http_read_value: str
    facts: dict[str, Any] = field(default_factory=dict)


# ---- the run ----------------------------------------------------------------------------------


def _settings(var_dir: Path) -> Settings:
    return Settings(
        var_dir=var_dir,
        database_url="",
        redis_url="",
        vault_key="",
        ledger_signing_key="",
        secret_key="test-secret-key-not-for-production",
        secure_cookies=False,
        relay_in_web=False,
        **FAST_ARGON2,  # type: ignore[arg-type]
    )


def _one(s: Session, model: Any, *where: Any) -> Any:
    return s.exec(select(model).where(*where)).first()


def _exercise_trust(runtime: Runtime) -> dict[str, Any]:
    """Vault values, a verification with a note, consents and gate reads, in domain calls."""
    fernet = trust_keys(runtime.settings).vault
    with runtime.db.transaction() as s:
        people = s.exec(
            select(Account).where(Account.kind == AccountKind.CITIZEN).order_by(Account.id)  # type: ignore[arg-type]
        ).all()
        first, second, third = people[0], people[1], people[2]
        unverified = next(p for p in people if p.verification_level == VerificationLevel.UNVERIFIED)
        ids = {"first": first.id, "second": second.id, "third": third.id, "unverified": unverified.id}
        for person, values in zip((first, second), VAULT_DIRECT, strict=True):
            vault.update_vault(s, fernet, person, values)
        registrar = _one(s, Account, Account.email == "registrar@gov.demo.civic.az")
        identity_actions.verify(
            s, registrar, unverified.id, VerificationRequest(level="verified", note=NOTE, district="Yasamal")
        )
        agency = _one(s, Agency, Agency.slug == "baku-transport")
        ids["agency"] = agency.id
    with runtime.db.transaction() as s:
        consents.grant_proactively(
            s,
            s.get(Account, ids["first"]),
            ProactiveInput(
                agency_id=ids["agency"], purpose=PURPOSE, attributes=["contact_email", "contact_phone"],
                retention_days=30,
            ),
        )  # fmt: skip
        convener = _one(s, Account, Account.email == "convener@gov.demo.civic.az")
        asked = requests.request_data(
            s,
            convener,
            RequestInput(
                citizen_id=ids["second"], purpose=PURPOSE, attributes=["contact_email"], retention_days=30,
                message="We would like to reply to your proposal.",
            ),
        )  # fmt: skip
        consents.grant(s, s.get(Account, ids["second"]), asked.id, AnswerInput(attributes=["contact_email"]))
    with runtime.db.transaction() as s:
        convener = _one(s, Account, Account.email == "convener@gov.demo.civic.az")
        read = gate.read_attribute(
            s, convener, ids["first"], "contact_email", PURPOSE, "Reply to your proposal", fernet=fernet
        )
        assert read == VAULT_DIRECT[0]["contact_email"]
        refused = gate.attempt(
            s, convener, ids["third"], "contact_phone", PURPOSE, "Call about your proposal", fernet=fernet
        )
        assert isinstance(refused, gate.AccessRefused)
    return ids


def _login(client: TestClient, email: str, password: str) -> Any:
    token = client.get("/api/csrf").json()["csrf_token"]
    return client.post(
        "/api/session", json={"email": email, "password": password}, headers={"X-CSRF-Token": token}
    )


def _exercise_http(app: Any, ids: dict[str, Any], emails: dict[int, str]) -> str:
    """Failing and succeeding requests that carry personal values; returns the value read."""
    with TestClient(app, base_url="http://testserver") as anonymous:
        assert _login(anonymous, emails[ids["first"]], WRONG_PASSWORD).status_code == 401
        token = anonymous.get("/api/csrf").json()["csrf_token"]
        refused = anonymous.post(
            "/api/accounts",
            json={"email": REFUSED_REGISTRATION, "display_name": "New Comer", "password": "short"},
            headers={"X-CSRF-Token": token},
        )
        assert refused.status_code == 422, refused.text
    with TestClient(app, base_url="http://testserver") as citizen:
        logged_in = _login(citizen, emails[ids["third"]], DEMO_PASSWORD)
        assert logged_in.status_code == 200, logged_in.text
        headers = {"X-CSRF-Token": logged_in.json()["csrf_token"]}
        bad = citizen.put("/api/me/vault", json=VAULT_REJECTED, headers=headers)
        assert bad.status_code == 422, bad.text
        assert citizen.put("/api/me/vault", json=VAULT_HTTP, headers=headers).status_code == 200
        given = citizen.post(
            "/api/me/consents",
            json={"agency_id": ids["agency"], "purpose": PURPOSE, "attributes": ["contact_email"], "retention_days": 7},
            headers=headers,
        )  # fmt: skip
        assert given.status_code in (200, 201), given.text
    with TestClient(app, base_url="http://testserver") as official:
        logged_in = _login(official, "convener@gov.demo.civic.az", DEMO_PASSWORD)
        assert logged_in.status_code == 200, logged_in.text
        headers = {"X-CSRF-Token": logged_in.json()["csrf_token"]}
        read = official.post(
            "/api/data/reads",
            json={"citizen_id": ids["third"], "attribute": "contact_email", "purpose": PURPOSE, "served": "Reply"},
            headers=headers,
        )  # fmt: skip
        assert read.status_code == 200, read.text
        denied = official.post(
            "/api/data/reads",
            json={"citizen_id": ids["second"], "attribute": "contact_phone", "purpose": PURPOSE, "served": "Call"},
            headers=headers,
        )  # fmt: skip
        assert denied.status_code == 403, denied.text
        return str(read.json()["value"])


def _exports(app: Any, runtime: Runtime) -> dict[str, str]:
    with runtime.db.transaction() as s:
        published = [
            c.id for c in s.exec(select(Consultation).where(Consultation.status == "published")).all()
        ]
    found: dict[str, str] = {}
    with TestClient(app, base_url="http://testserver") as anonymous:
        for consultation_id in published:
            for ext in ("csv", "json"):
                url = f"/consultations/{consultation_id}/proposals.{ext}"
                response = anonymous.get(url)
                assert response.status_code == 200, f"{url}: {response.status_code}"
                found[url] = response.text
    return found


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scanned]:
    var_dir = tmp_path_factory.mktemp("no-personal-data") / "var"
    collector = Collector()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in VERBOSE}
    root.addHandler(collector)
    for name in VERBOSE:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        run_demo(CITIZENS, CIVIC_VAR_DIR=str(var_dir))
        runtime = build_runtime(_settings(var_dir))
        try:
            ids = _exercise_trust(runtime)
            with runtime.db.transaction() as s:
                emails = {a.id: a.email for a in s.exec(select(Account)).all()}
            app = create_app(runtime=runtime)
            value = _exercise_http(app, ids, emails)
            runtime.relay.drain()
            exports = _exports(app, runtime)
            with runtime.db.transaction() as s:
                emails = {a.id: a.email for a in s.exec(select(Account)).all()}
                notes = [n for n in s.exec(select(VerificationRecord.note)).all() if n]
                events = list(s.exec(select(OutboxEvent).order_by(OutboxEvent.seq)).all())  # type: ignore[arg-type]
                for event in events:
                    s.expunge(event)
                ledger = [
                    bytes(body).decode("utf-8", "replace")
                    for body in s.exec(select(LedgerRecord.body)).all()
                    if body is not None
                ]
        finally:
            runtime.close()
    finally:
        root.removeHandler(collector)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    vault_values = {v for values in (*VAULT_DIRECT, VAULT_HTTP, VAULT_REJECTED) for v in values.values()}
    personal = {*emails.values(), DEMO_PASSWORD, WRONG_PASSWORD, REFUSED_REGISTRATION, *vault_values, *notes}
    yield Scanned(
        personal=personal,
        events=events,
        ledger=ledger,
        exports=exports,
        logs=collector.records,
        http_read_value=value,
        facts={"notes": notes, "citizens": ids},
    )


# ---- the scanner works ------------------------------------------------------------------------


def test_the_scanner_finds_planted_values_in_text_json_and_log_records() -> None:
    planted = VAULT_DIRECT[0]["contact_email"]
    assert leaks(f"sent to {planted.upper()} today", {planted}) == {planted}
    district = VAULT_DIRECT[0]["district"]
    escaped = json.dumps({"data": {"where": district}})  # "\u015f…" as a JSON file holds it
    assert leaks(as_text(json.loads(escaped)), {district}) == {district}
    assert leaks("nothing personal here", {planted, district}) == set()
    assert EMAIL_SHAPE.search(f'{{"to": "{planted}"}}')

    collector = Collector()
    probe = logging.getLogger("civic.security_probe")
    level, probe.level = probe.level, logging.DEBUG
    probe.addHandler(collector)
    try:
        probe.debug("mail to %s", planted)
        probe.debug("context", extra={"who": district})
        try:
            raise ValueError(NOTE)
        except ValueError:
            probe.exception("failed")
    finally:
        probe.removeHandler(collector)
        probe.setLevel(level)
    found = [leaks(text, {planted, district, NOTE}) for _name, text in collector.records]
    assert found == [{planted}, {district}, {NOTE}]


def test_the_run_really_handled_personal_data(scanned: Scanned) -> None:
    """Otherwise the scans below would pass for want of anything to find."""
    assert scanned.http_read_value == VAULT_HTTP["contact_email"]
    assert NOTE in scanned.facts["notes"]
    types = {e.type for e in scanned.events}
    assert {"data.accessed", "account.verified"} <= types, sorted(types)
    assert any("consent" in t for t in types), sorted(types)
    assert any(t.startswith(PUBLIC_KINDS) for e in scanned.events for t in e.topics)
    assert len([v for v in scanned.personal if "@" in v]) > CITIZENS
    assert scanned.exports and scanned.logs and scanned.ledger


# ---- the scans --------------------------------------------------------------------------------


def test_no_event_on_any_topic_carries_a_personal_value(scanned: Scanned) -> None:
    found = {}
    for event in scanned.events:
        text = as_text(
            {"type": event.type, "topics": event.topics, "data": event.data, "actor": event.actor_id}
        )
        hits = leaks(text, scanned.personal) or set(EMAIL_SHAPE.findall(text))
        if hits:
            found[f"{event.seq} {event.type} {event.topics}"] = sorted(hits)
    assert not found, f"personal data in events: {found}"


def test_events_on_public_topics_carry_no_personal_value(scanned: Scanned) -> None:
    public = [e for e in scanned.events if any(t.startswith(PUBLIC_KINDS) for t in e.topics)]
    assert public
    found = {
        f"{e.seq} {e.type}": sorted(hits)
        for e in public
        if (hits := leaks(as_text({"topics": e.topics, "data": e.data}), scanned.personal))
    }
    assert not found, f"personal data on public topics: {found}"


def test_open_data_exports_carry_no_personal_value(scanned: Scanned) -> None:
    found = {
        url: sorted(hits)
        for url, body in scanned.exports.items()
        if (hits := leaks(body, scanned.personal) or set(EMAIL_SHAPE.findall(body)))
    }
    assert not found, f"personal data in open-data exports: {found}"


def test_ledger_records_carry_no_personal_value(scanned: Scanned) -> None:
    found = [sorted(hits) for body in scanned.ledger if (hits := leaks(body, scanned.personal))]
    assert not found, f"personal data in ledger records: {found}"


def test_no_log_record_carries_a_personal_value(scanned: Scanned) -> None:
    found = [(name, sorted(hits)) for name, text in scanned.logs if (hits := leaks(text, scanned.personal))]
    assert not found, f"personal data in {len(found)} log records, e.g. {found[:5]}"
