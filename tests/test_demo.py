"""`civic demo`: believable data that goes through the real actions, and a second run adds nothing.

The embedded demo is loaded once for the module (twice, really: the second run must be a no-op)
and the tests read what it left; the services pass also loads it into a fresh PostgreSQL database
with Redis, the way a production demo would run.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from civic.app import create_app
from civic.cli import main
from civic.clock import as_utc
from civic.demo import BUSINESSES, FOREIGN, NGOS, OFFICIAL_DOMAIN, OFFICIALS, _citizens
from civic.errors import Forbidden
from civic.events.models import OutboxEvent
from civic.identity.authorization import Permission, Target, authorize
from civic.identity.models import (
    Account,
    AccountKind,
    Agency,
    AgencyKind,
    Grant,
    VerificationLevel,
    VerificationRecord,
)
from civic.leadership.models import Appeal, ModerationCase, Notification
from civic.participation.models import AnswerStatus, Comment, Consultation, Proposal, ProposalAnswer, Support
from civic.runtime import build_runtime
from civic.settings import Settings
from tests.conftest import FAST_ARGON2, REDIS_URL, csrf_token
from tests.test_migrations import empty_postgres_database

CITIZENS = 40
DEMO_PASSWORD = Settings().demo_password
COUNTED = (Account, Agency, Grant, VerificationRecord, OutboxEvent, Consultation, Proposal, Support, Comment)


def test_consultations_cover_every_phase_with_content_in_both_languages(session: Session) -> None:
    consultations = session.exec(select(Consultation)).all()
    phases = {c.phase for c in consultations if c.status == "published"}
    assert {"information", "proposals", "support", "deliberation", "closed"} <= phases
    assert any(c.status == "draft" for c in consultations)
    assert {c.language for c in consultations} == {"en", "az"}
    supported = session.exec(select(Proposal).where(Proposal.support_count > 0)).all()
    assert supported and all(
        p.support_count == len(session.exec(select(Support).where(Support.proposal_id == p.id)).all())
        for p in supported
    )
    assert session.exec(select(Comment).where(Comment.parent_id.is_not(None))).first() is not None  # type: ignore[union-attr]


def demo_env(**extra: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CIVIC_")}
    env.update({f"CIVIC_{k.upper()}": str(v) for k, v in FAST_ARGON2.items()})
    env.update(extra)
    return env


def run_demo(citizens: int, **env: str) -> Result:
    result = CliRunner().invoke(
        main, ["demo", "--no-serve", "--citizens", str(citizens)], env=demo_env(**env)
    )
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return {
                model.__name__: session.exec(select(func.count()).select_from(model)).one()
                for model in COUNTED
            }
    finally:
        engine.dispose()


@dataclass
class DemoRun:
    url: str
    var_dir: Path
    first: Result
    second: Result
    counts_after_first: dict[str, int]
    counts_after_second: dict[str, int]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    var_dir = tmp_path_factory.mktemp("demo") / "var"
    url = f"sqlite:///{var_dir / 'civic.sqlite3'}"
    first = run_demo(CITIZENS, CIVIC_VAR_DIR=str(var_dir))
    after_first = counts(url)
    second = run_demo(CITIZENS, CIVIC_VAR_DIR=str(var_dir))
    return DemoRun(url, var_dir, first, second, after_first, counts(url))


@pytest.fixture
def session(demo: DemoRun) -> Iterator[Session]:
    engine = create_engine(demo.url)
    with Session(engine) as db_session:
        yield db_session
    engine.dispose()


def _official(session: Session, local: str) -> Account:
    account = session.exec(select(Account).where(Account.email == f"{local}@{OFFICIAL_DOMAIN}")).one()
    return account


# ---- the command ------------------------------------------------------------------------------


def test_first_run_migrates_loads_and_reports_progress(demo: DemoRun) -> None:
    output = demo.first.output
    for step in ("Migrating", "Demo data:", "Loading", "Publishing the events"):
        assert step in output, f"{step!r} missing from:\n{output}"
    assert f"added 9 agencies, {len(OFFICIALS)} officials, {CITIZENS} e-citizens" in output
    assert f"admin@{OFFICIAL_DOMAIN}" in output and DEMO_PASSWORD in output


def test_second_run_adds_nothing_and_says_so(demo: DemoRun) -> None:
    assert demo.counts_after_second == demo.counts_after_first
    assert (
        "added 0 agencies, 0 officials, 0 e-citizens (0 verified); published 0 events" in demo.second.output
    )
    assert "Nothing new" in demo.second.output


def test_a_larger_run_adds_only_the_missing_citizens(tmp_path: Path) -> None:
    var_dir = str(tmp_path / "var")
    run_demo(5, CIVIC_VAR_DIR=var_dir)

    more = run_demo(12, CIVIC_VAR_DIR=var_dir)

    assert "added 0 agencies, 0 officials, 7 e-citizens" in more.output
    assert counts(f"sqlite:///{tmp_path / 'var' / 'civic.sqlite3'}")["Account"] == len(OFFICIALS) + 12


# ---- the data ---------------------------------------------------------------------------------


def test_agency_tree_is_a_ministry_with_councils_directorates_and_agencies(session: Session) -> None:
    agencies = session.exec(select(Agency)).all()
    by_id = {a.id: a for a in agencies}
    roots = [a for a in agencies if a.parent_id is None]
    assert [r.kind for r in roots] == [AgencyKind.MINISTRY]
    ministry = roots[0]
    under_ministry = Counter(a.kind for a in agencies if a.parent_id == ministry.id)
    assert under_ministry[AgencyKind.COUNCIL] >= 1
    assert under_ministry[AgencyKind.DIRECTORATE] >= 1
    assert under_ministry[AgencyKind.AGENCY] >= 1
    nested = [a for a in agencies if a.parent_id is not None and by_id[a.parent_id].kind == AgencyKind.AGENCY]
    assert {a.kind for a in nested} >= {AgencyKind.DIRECTORATE, AgencyKind.COUNCIL}
    assert all(a.name and a.name_az for a in agencies)


def test_officials_hold_exactly_the_listed_grants(session: Session) -> None:
    slug_of = {a.id: a.slug for a in session.exec(select(Agency)).all()}
    held = {
        (account.email, grant.role, slug_of[grant.agency_id])
        for grant, account in session.exec(
            select(Grant, Account).where(Grant.account_id == Account.id, col(Grant.revoked_at).is_(None))
        ).all()
    }
    expected = {
        (f"{local}@{OFFICIAL_DOMAIN}", role.value, slug)
        for local, _name, slug, roles in OFFICIALS
        for role in roles
    }
    assert held == expected
    officials = session.exec(select(Account).where(Account.kind == AccountKind.OFFICIAL)).all()
    assert len(officials) == len(OFFICIALS)
    assert all(
        o.agency_id is not None and o.verification_level == VerificationLevel.UNVERIFIED for o in officials
    )


def test_grants_reach_down_the_tree_and_no_further(session: Session) -> None:
    slug_id = {a.slug: a.id for a in session.exec(select(Agency)).all()}
    mobility = Target(agency_id=slug_id["baku-transport-mobility"])

    authorize(session, _official(session, "admin"), Permission.MANAGE_GRANTS, mobility)
    authorize(session, _official(session, "moderator"), Permission.MODERATE, mobility)
    authorize(session, _official(session, "registrar"), Permission.VERIFY_IDENTITY)
    with pytest.raises(Forbidden):
        authorize(
            session, _official(session, "responder"), Permission.ANSWER_PROPOSALS, Target(slug_id["idda"])
        )


def test_leadership_demo_answers_in_every_status_and_leaves_a_queue_to_work(session: Session) -> None:
    answers = session.exec(select(ProposalAnswer)).all()
    assert {a.status for a in answers} == {s.value for s in AnswerStatus}
    assert {a.official_role for a in answers} == {"responder"}
    for proposal in session.exec(select(Proposal).where(col(Proposal.answer_status).is_not(None))).all():
        history = [a for a in answers if a.proposal_id == proposal.id]
        assert proposal.answer_status == max(history, key=lambda a: a.id or 0).status
        first = as_utc(min(history, key=lambda a: a.id or 0).created_at)
        assert as_utc(proposal.first_answered_at) == first > as_utc(proposal.created_at)  # type: ignore[arg-type]

    cases = session.exec(select(ModerationCase)).all()
    open_cases = [c for c in cases if c.state == "open"]
    assert {c.origin for c in open_cases} >= {"reports", "pre_moderation"}
    assert any(c.auto_hidden for c in open_cases), "one comment was hidden by the weight of its reports"
    assert all(c.report_weight < 3 for c in open_cases if not c.auto_hidden)
    [appeal] = session.exec(select(Appeal)).all()
    decided = session.get(ModerationCase, appeal.case_id)
    assert appeal.state == "open" and decided is not None and decided.decision == "hide"
    # The appeal can only go to the other moderator: the one who decided is refused.
    assert decided.decided_by_id == _official(session, "moderator").id
    assert session.exec(select(Notification).where(Notification.kind == "proposal.answered")).first()


def test_every_account_kind_is_present(session: Session) -> None:
    kinds = Counter(session.exec(select(Account.kind)).all())
    assert set(kinds) == set(AccountKind)
    assert sum(kinds[k] for k in AccountKind if k is not AccountKind.OFFICIAL) == CITIZENS


def test_verified_accounts_were_verified_by_the_registrar(session: Session) -> None:
    registrar = _official(session, "registrar")
    records = session.exec(select(VerificationRecord)).all()
    by_account = {r.account_id: r for r in records}
    assert len(by_account) == len(records), "one record per verified account"
    accounts = session.exec(select(Account)).all()
    verified = [a for a in accounts if a.verification_level != VerificationLevel.UNVERIFIED]
    assert verified, "the demo verifies some accounts"
    assert {a.id for a in verified} == set(by_account)
    for account in verified:
        record = by_account[account.id]
        assert record.verified_by_id == registrar.id
        assert record.level == account.verification_level
        assert account.kind != AccountKind.OFFICIAL
    levels = {a.verification_level for a in verified}
    assert levels == {VerificationLevel.VERIFIED, VerificationLevel.ESIGNATURE}


def test_every_demo_event_was_published(session: Session) -> None:
    unpublished = session.exec(select(func.count()).where(col(OutboxEvent.published_at).is_(None))).one()
    assert unpublished == 0
    types = set(session.exec(select(OutboxEvent.type)).all())
    assert {"account.registered", "account.verified", "role.granted"} <= types


def test_each_organisation_and_foreign_resident_appears_before_any_name_repeats() -> None:
    people = list(_citizens(200))
    names = {kind: [p.name for p in people if p.kind is kind] for kind in AccountKind}
    assert sorted(names[AccountKind.BUSINESS]) == sorted(BUSINESSES)
    assert len(set(names[AccountKind.NGO][: len(NGOS)])) == len(NGOS)
    assert sorted(names[AccountKind.FOREIGN_RESIDENT][: len(FOREIGN)]) == sorted(FOREIGN)


def test_demo_officials_log_in_with_the_printed_password(demo: DemoRun) -> None:
    settings = Settings(
        var_dir=demo.var_dir,
        database_url=demo.url,
        secret_key="test-secret",
        secure_cookies=False,
        relay_in_web=False,
        **FAST_ARGON2,  # type: ignore[arg-type]
    )
    runtime = build_runtime(settings)
    try:
        with TestClient(create_app(runtime=runtime), base_url="http://testserver") as client:
            login = client.post(
                "/api/session",
                json={"email": f"registrar@{OFFICIAL_DOMAIN}", "password": DEMO_PASSWORD},
                headers={"X-CSRF-Token": csrf_token(client)},
            )
            assert login.status_code == 200, login.text
            assert client.get("/api/me").json()["email"] == f"registrar@{OFFICIAL_DOMAIN}"
    finally:
        runtime.close()


# ---- production mode --------------------------------------------------------------------------


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    token = uuid.uuid4().hex[:10]
    yield token
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"*{token}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.mark.services
def test_demo_in_production_mode_publishes_every_event_to_redis(redis_namespace: str) -> None:
    prefix = f"civicdemo:{redis_namespace}"
    with empty_postgres_database("civic_demo") as url:
        env = {
            "CIVIC_DATABASE_URL": url,
            "CIVIC_REDIS_URL": REDIS_URL,
            "CIVIC_REDIS_PREFIX": prefix,
            "CIVIC_RQ_QUEUE": f"civic-demo-{redis_namespace}",
            "CIVIC_SECRET_KEY": f"demo-test-{uuid.uuid4().hex}",
        }
        first = run_demo(20, **env)
        loaded = counts(url)
        second = run_demo(20, **env)

        assert "added 9 agencies" in first.output
        assert "added 0 agencies, 0 officials, 0 e-citizens" in second.output
        assert counts(url) == loaded
        assert loaded["Account"] == len(OFFICIALS) + 20
        engine = create_engine(url)
        with Session(engine) as session:
            unpublished = session.exec(
                select(func.count()).where(col(OutboxEvent.published_at).is_(None))
            ).one()
        engine.dispose()
        assert unpublished == 0
        client = redis.Redis.from_url(REDIS_URL)
        try:
            assert client.xlen(f"{prefix}:all") == loaded["OutboxEvent"]
        finally:
            client.close()
