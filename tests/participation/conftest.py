"""Fixtures and factories for participation's tests.

`world` is an agency tree with its officials and a cast of e-citizens of every kind; factories
build consultations, proposals and comments through the real actions (so they emit the events
real use does); `Browser` is a test client logged in as one person, sending the CSRF header on
every unsafe request; `snapshot` counts every table an action could write, so a refusal can be
shown to have written nothing.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func
from sqlmodel import Session, SQLModel, col, select
from starlette.testclient import TestClient

from civic.app import create_app
from civic.clock import utcnow
from civic.events.models import OutboxEvent
from civic.http.api import openapi_document
from civic.identity import actions as identity_actions
from civic.identity.models import Account, AccountKind, Agency, AgencyKind, Grant, Role
from civic.identity.schemas import Registration
from civic.participation import actions, consultations
from civic.participation.models import Comment, Consultation, Phase, Proposal, Support
from civic.participation.schemas import CommentInput, ConsultationInput, PhaseChange, ProposalInput
from civic.runtime import Runtime
from civic.wiring import import_models
from tests.conftest import BACKEND
from tests.factories import PASSWORD

PRODUCTION = BACKEND == "postgres"
_numbers = itertools.count(1)
_password_hash: str | None = None


# ---- a clean database per test, quickly ----------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("participation") / "template.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    import_models().metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The suite's per-test database, made faster for this package's many small tests: SQLite
    copies a schema built once (creating it took 0.4 s a test), PostgreSQL empties the tables with
    DELETE, which on tables this small is ten times quicker than TRUNCATE. Ids are not restarted;
    no test here depends on them."""
    if PRODUCTION:
        url: str = request.getfixturevalue("postgres_url")
        engine = create_engine(url)
        with engine.begin() as conn:
            for table in reversed(import_models().metadata.sorted_tables):
                conn.execute(table.delete())
        engine.dispose()
        return url
    path = tmp_path / "civic.sqlite3"
    shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
    return f"sqlite:///{path}"


# ---- people ---------------------------------------------------------------------------------


def _hash(runtime: Runtime) -> str:
    # Hashing is the slow part of making an account: every test uses the same (fast) parameters,
    # so one hash of the shared password serves every account of the run.
    global _password_hash
    if _password_hash is None:
        _password_hash = runtime.passwords.hash(PASSWORD)
    return _password_hash


def person(
    runtime: Runtime,
    session: Session,
    name: str,
    *,
    kind: AccountKind = AccountKind.CITIZEN,
    agency: Agency | None = None,
) -> Account:
    n = next(_numbers)
    data = Registration(
        email=f"{name.lower().replace(' ', '-')}.{n}@example.az",
        display_name=name,
        password=PASSWORD,
        kind=kind.value if kind != AccountKind.OFFICIAL else "citizen",  # type: ignore[arg-type]
    )
    return identity_actions.do_register(
        session, data, _hash(runtime), kind=kind.value, agency_id=agency.id if agency else None
    )


@dataclass
class World:
    """A ministry with an agency (and a unit below it), an unrelated agency, their officials,
    and e-citizens: two verified citizens of different districts, an unverified one, a foreign
    resident, a business and an NGO."""

    ministry: Agency
    agency: Agency
    unit: Agency
    other_agency: Agency
    convener: Account
    moderator: Account
    registrar: Account
    minister: Account  # an administrator of the ministry, so of every agency below it
    unit_convener: Account  # a convener one level below the owning agency: no reach upwards
    other_convener: Account
    leyla: Account  # verified, lives in Sabail
    kamal: Account  # verified, lives in Nasimi
    aysel: Account  # unverified
    rashad: Account  # verified, Sabail, the usual supporter
    foreigner: Account
    business: Account
    ngo: Account


# name: (display name, kind, verification level, district, agency attribute, role)
CAST: dict[str, tuple[str, AccountKind, str, str | None, str | None, Role | None]] = {
    "convener": ("Convener", AccountKind.OFFICIAL, "unverified", None, "agency", Role.CONVENER),
    "moderator": ("Moderator", AccountKind.OFFICIAL, "unverified", None, "agency", Role.MODERATOR),
    "registrar": ("Registrar", AccountKind.OFFICIAL, "unverified", None, "agency", Role.REGISTRAR),
    "minister": ("Minister", AccountKind.OFFICIAL, "unverified", None, "ministry", Role.ADMINISTRATOR),
    "unit_convener": ("Unit convener", AccountKind.OFFICIAL, "unverified", None, "unit", Role.CONVENER),
    "other_convener": (
        "Other convener",
        AccountKind.OFFICIAL,
        "unverified",
        None,
        "other_agency",
        Role.CONVENER,
    ),
    "leyla": ("Leyla", AccountKind.CITIZEN, "verified", "Sabail", None, None),
    "kamal": ("Kamal", AccountKind.CITIZEN, "verified", "Nasimi", None, None),
    "aysel": ("Aysel", AccountKind.CITIZEN, "unverified", None, None, None),
    "rashad": ("Rashad", AccountKind.CITIZEN, "verified", "Sabail", None, None),
    "foreigner": ("Anna", AccountKind.FOREIGN_RESIDENT, "verified", None, None, None),
    "business": ("Bakery LLC", AccountKind.BUSINESS, "unverified", None, None, None),
    "ngo": ("Green NGO", AccountKind.NGO, "unverified", None, None, None),
}


@pytest.fixture
def world(runtime: Runtime) -> World:
    """Every test's cast, written in a handful of statements. Unlike `person`, it
    does not go through identity's actions (each account, grant and verification would be a few
    round trips and an event, a quarter of a second a test on PostgreSQL): these are identity's
    rows as its actions leave them, and identity's tests prove the actions. Verification through
    the registrar's API is exercised where it matters (the district test)."""
    now = utcnow()
    with runtime.db.transaction() as s:
        agencies: dict[str, Agency] = {}

        def add_agencies(**named: tuple[str, AgencyKind, str | None]) -> None:
            for key, (name, kind, parent) in named.items():
                n = next(_numbers)
                agencies[key] = Agency(
                    slug=f"agency-{n}",
                    name=f"{name} {n}",
                    name_az=f"{name} {n} (az)",
                    kind=kind,
                    parent_id=agencies[parent].id if parent else None,
                )
            s.add_all([agencies[key] for key in named])
            s.flush()

        add_agencies(
            ministry=("Ministry", AgencyKind.MINISTRY, None),
            other_agency=("Culture", AgencyKind.AGENCY, None),
        )
        add_agencies(agency=("Transport agency", AgencyKind.AGENCY, "ministry"))
        add_agencies(unit=("Bus unit", AgencyKind.DIRECTORATE, "agency"))
        people: dict[str, Account] = {}
        for key, (name, kind, level, district, agency_key, _role) in CAST.items():
            n = next(_numbers)
            people[key] = Account(
                email=f"{key}.{n}@example.az",
                display_name=name,
                kind=kind,
                password_hash=_hash(runtime),
                agency_id=agencies[agency_key].id if agency_key else None,
                verification_level=level,
                district=district,
                created_at=now,
            )
        s.add_all(list(people.values()))
        s.flush()
        s.add_all(
            [
                Grant(account_id=people[key].id, role=role, agency_id=people[key].agency_id, granted_at=now)
                for key, (*_, role) in CAST.items()
                if role is not None
            ]
        )
        s.flush()
        return World(**agencies, **people)


# ---- participation data ---------------------------------------------------------------------


def consultation_input(agency_id: int, **overrides: Any) -> ConsultationInput:
    values: dict[str, Any] = {
        "agency_id": agency_id,
        "title": "Bus lanes on Nizami street",
        "summary": "Where should the new bus lanes go?",
        "body": "The agency plans bus lanes and asks residents where they help most.",
        "categories": ["transport", "safety"],
        "support_threshold": 3,
    }
    values.update(overrides)
    return ConsultationInput(**values)


def make_consultation(
    session: Session,
    convener: Account,
    *,
    phase: Phase = Phase.PROPOSALS,
    publish: bool = True,
    **overrides: Any,
) -> Consultation:
    """A consultation of the convener's agency, moved to `phase` (while still a draft, so no
    phase event) and published unless `publish=False`."""
    assert convener.agency_id is not None
    c = consultations.create_consultation(
        session, convener, consultation_input(convener.agency_id, **overrides)
    )
    assert c.id is not None
    if phase != Phase.INFORMATION:
        consultations.change_phase(session, convener, c.id, PhaseChange(phase=phase.value))
    if publish:
        consultations.publish_consultation(session, convener, c.id)
    return c


def set_phase(runtime: Runtime, convener: Account, consultation_id: int, phase: Phase) -> None:
    with runtime.db.transaction() as s:
        consultations.change_phase(s, convener, consultation_id, PhaseChange(phase=phase.value))


def make_proposal(
    session: Session,
    author: Account,
    consultation: Consultation,
    title: str = "More buses at night",
    body: str = "Night buses every 20 minutes on the main lines.",
    **overrides: Any,
) -> Proposal:
    assert consultation.id is not None
    return actions.submit_proposal(
        session, author, consultation.id, ProposalInput(title=title, body=body, **overrides)
    )


def support(runtime: Runtime, supporter: Account, proposal_id: int) -> None:
    with runtime.db.transaction() as s:
        actions.support_proposal(s, supporter, proposal_id)


def make_comment(
    session: Session,
    author: Account,
    proposal_id: int,
    body: str = "Good idea.",
    parent: Comment | None = None,
) -> Comment:
    return actions.post_comment(
        session, author, proposal_id, CommentInput(body=body, parent_id=parent.id if parent else None)
    )


def load(runtime: Runtime, model: type[SQLModel], row_id: int) -> Any:
    with runtime.db.transaction() as s:
        return s.get(model, row_id)


# ---- what was written -----------------------------------------------------------------------

COUNTED: tuple[type[SQLModel], ...] = (Consultation, Proposal, Support, Comment, OutboxEvent)


def snapshot(runtime: Runtime) -> dict[str, Any]:
    """Row counts of every table participation writes, and the proposals' and comments' counters:
    equal snapshots before and after a refused request mean it wrote nothing."""
    with runtime.db.transaction() as s:
        counts: dict[str, Any] = {
            m.__name__: s.exec(select(func.count()).select_from(m)).one()  # type: ignore[arg-type]
            for m in COUNTED
        }
        counts["proposals"] = [
            (p.id, p.title, p.body, p.status, p.support_count, p.comment_count, p.edited_at)
            for p in s.exec(select(Proposal).order_by(col(Proposal.id))).all()
        ]
        counts["consultations"] = [
            (c.id, c.status, c.phase)
            for c in s.exec(select(Consultation).order_by(col(Consultation.id))).all()
        ]
        counts["comments"] = [
            (c.id, c.status, c.body, c.reply_count, c.edited_at)
            for c in s.exec(select(Comment).order_by(col(Comment.id))).all()
        ]
    return counts


def outbox(runtime: Runtime, event_type: str) -> list[dict[str, Any]]:
    """The outbox rows of one event type, oldest first, as plain dicts."""
    with runtime.db.transaction() as s:
        rows = s.exec(
            select(OutboxEvent).where(OutboxEvent.type == event_type).order_by(col(OutboxEvent.seq))
        ).all()
        return [{"data": dict(r.data), "topics": list(r.topics), "actor": r.actor_id} for r in rows]


def on_the_bus(runtime: Runtime) -> list[dict[str, Any]]:
    """Publish the outbox, then read the backend's global log as every web process does."""
    runtime.relay.drain()
    return [json.loads(p.event_json) for p in runtime.backend.read("0", 0, limit=100_000)]


# ---- HTTP -----------------------------------------------------------------------------------


class Browser:
    """One person's browser on the API: keeps its cookies and sends the CSRF token it was given."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._token: str | None = None

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = str(self.client.get("/api/csrf").json()["csrf_token"])
        return self._token

    def login(self, account: Account) -> Browser:
        response = self.post("/api/session", {"email": account.email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        self._token = response.json()["csrf_token"]
        return self

    def get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, params=params or None)

    def post(self, url: str, body: Any = None) -> Any:
        return self.client.post(url, json=body, headers={"X-CSRF-Token": self.token})

    def put(self, url: str, body: Any = None) -> Any:
        return self.client.put(url, json=body, headers={"X-CSRF-Token": self.token})

    def delete(self, url: str) -> Any:
        return self.client.delete(url, headers={"X-CSRF-Token": self.token})


OpenBrowser = Callable[..., Browser]


_openapi_documents: dict[tuple[Any, ...], dict[str, Any]] = {}


def _openapi_once(operations: list[Any], **kwargs: Any) -> dict[str, Any]:
    key = (len(operations), *sorted(kwargs.items()))
    if key not in _openapi_documents:
        _openapi_documents[key] = openapi_document(operations, **kwargs)
    return _openapi_documents[key]


@pytest.fixture
def app(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The suite's app, but with the OpenAPI document built once per run instead of once per app:
    `create_app` builds it eagerly, a tenth of a second each, which was a fifth of this package's
    run. (The document's own tests are in tests/http/test_openapi.py.)"""
    monkeypatch.setattr("civic.app.openapi_document", _openapi_once)
    return create_app(runtime=runtime)


@pytest.fixture
def browser(client: TestClient) -> Iterator[OpenBrowser]:
    """`browser(account)` is a fresh browser logged in as `account`; `browser()` an anonymous one.
    Each has its own cookies, on the app whose lifespan the suite's `client` runs."""
    opened: list[TestClient] = []

    def open_browser(account: Account | None = None) -> Browser:
        test_client = TestClient(client.app, base_url=str(client.base_url))
        opened.append(test_client)
        b = Browser(test_client)
        return b.login(account) if account is not None else b

    yield open_browser
    for test_client in opened:
        test_client.close()


def error(response: Any, status: int) -> dict[str, Any]:
    """The error body of a response that must have `status`."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    body: dict[str, Any] = response.json()["error"]
    return body
