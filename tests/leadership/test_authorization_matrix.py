"""The authorization matrix (issue #4's "done when"): every role × scope × state-changing endpoint
and WebSocket topic, through the real HTTP stack and the real subscription check.

For each case the expectation is computed here, independently of the code under test: allowed ⇔
the role holds the permission per `RULES` and the scope covers the target, by the `COVERS` table
below (written from the issue's definition of scopes, not from `authorization._covers`). A refusal
must be a 403 (401 when anonymous) whose message names the roles that would allow it, and must
write nothing: every table's row count and the target's own rows are the same before and after.

The endpoints are a data table (`ROWS`): method, path, permission, what the target is, how to
prepare it and the body to send. A new endpoint that needs a grant is one more row;
`test_every_state_changing_operation_is_classified` fails until every non-GET operation the app
serves is either a row or in `NO_GRANT` with the reason it needs none.

One world for the module (a ministry, its agency, a sibling agency, an official for every role in
every scope, a citizen, an anonymous visitor, each with a session), built once. A target is
prepared once and reused by every refused case (they write nothing); a case that is allowed
consumes it, and the next case prepares a fresh one.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel
from starlette.testclient import TestClient

from civic.app import create_app
from civic.clock import utcnow
from civic.http.guard import csrf_token_for
from civic.identity.authorization import RULES, Permission
from civic.identity.models import Account, AccountKind, Agency, AgencyKind, Grant, Role
from civic.identity.sessions import start_session
from civic.leadership import appeals, blocks, moderation
from civic.leadership.models import Appeal, ModerationCase
from civic.leadership.schemas import AppealInput, BlockInput, DecisionInput
from civic.participation import actions as participation_actions
from civic.participation import consultations
from civic.participation.models import Consultation, Phase, Proposal
from civic.participation.schemas import ConsultationInput, ProposalInput
from civic.realtime.subscriptions import authorize_topics
from civic.runtime import Runtime, build_runtime
from civic.wiring import import_models
from tests.conftest import BACKEND, PG_ADMIN_URL, REDIS_URL, make_settings
from tests.leadership._console_support import all_operations, with_leadership

P = Permission
FAKE_HASH = "$argon2id$v=19$m=19456,t=2,p=1$bm90LWEtcmVhbC1zYWx0$bm90LWEtcmVhbC1oYXNo"  # never logs in
REASON = "Checked against the agency's rules."

# ---- scopes: where an actor's grant sits, and which targets it reaches ------------------------
#
# A target is an agency (and so its units), a consultation of the target agency, or nothing in
# particular ("anywhere": verifying an e-citizen, the global dashboard), which any active grant of
# the role covers. "target consultation" is a grant on the very consultation acted on (for an
# agency-wide target: on a draft of that agency, which does not reach the agency itself).

COVERS: dict[str, frozenset[str]] = {
    "target agency": frozenset({"agency", "consultation", "anywhere"}),
    "parent ministry": frozenset({"agency", "consultation", "anywhere"}),
    "sibling agency": frozenset({"anywhere"}),
    "target consultation": frozenset({"consultation", "anywhere"}),
    "other consultation": frozenset({"anywhere"}),
    "expired grant": frozenset(),
    "revoked grant": frozenset(),
}
SCOPES = tuple(COVERS)
ACTOR_KEYS = [f"{role.value}@{scope}" for role in Role for scope in SCOPES] + ["citizen", "anonymous"]


@dataclass
class Actor:
    key: str
    role: Role | None
    scope: str | None
    account: Account | None
    token: str | None = None


@dataclass
class Matrix:
    runtime: Runtime
    client: TestClient
    ministry: Agency
    agency: Agency
    sibling: Agency
    draft: Consultation  # of the agency: "target consultation" actors hold a grant on it
    other: Consultation  # of the agency: "other consultation" actors hold a grant on it
    convener: Account  # helpers that prepare targets; never an actor
    moderator: Account
    actors: dict[str, Actor]
    csrf_cookie: str
    targets: dict[str, dict[str, int]] = field(default_factory=dict)
    granted: set[tuple[str, int]] = field(default_factory=set)

    def target(self, row: Row) -> dict[str, int]:
        if row.name not in self.targets:
            with self.runtime.db.transaction() as s:
                self.targets[row.name] = row.prepare(s, self)
        return self.targets[row.name]

    def spent(self, row: Row) -> None:
        self.targets.pop(row.name, None)

    def grant_on_consultation(self, actor: Actor, consultation_id: int) -> None:
        """A "target consultation" actor's grant on the consultation a case acts on."""
        if actor.account is None or (actor.key, consultation_id) in self.granted:
            return
        with self.runtime.db.transaction() as s:
            s.add(
                Grant(
                    account_id=actor.account.id,
                    role=actor.role,
                    consultation_id=consultation_id,
                    granted_at=utcnow(),
                )
            )
        self.granted.add((actor.key, consultation_id))

    def request(self, actor: Actor, method: str, url: str, body: Any) -> Any:
        cookie = f"civic_csrf={self.csrf_cookie}"
        if actor.token:
            cookie += f"; civic_session={actor.token}"
        headers = {
            "Cookie": cookie,
            "X-CSRF-Token": csrf_token_for(self.runtime.secret_key, self.csrf_cookie),
        }
        self.client.cookies.clear()
        response = self.client.request(method, url, json=body, headers=headers)
        self.client.cookies.clear()
        return response


# ---- what was written -------------------------------------------------------------------------

FINGERPRINTED: dict[str, type[SQLModel]] = {
    "consultation_id": Consultation,
    "grant_id": Grant,
    "account_id": Account,
    "grantee_id": Account,
    "proposal_id": Proposal,
    "case_id": ModerationCase,
    "appeal_id": Appeal,
}


def snapshot(m: Matrix, ctx: dict[str, int]) -> dict[str, Any]:
    """Every table's row count (one query) and the target rows as they stand."""
    tables = [t.name for t in import_models().metadata.sorted_tables if t.name != "auth_session"]
    counts = ", ".join(f'(SELECT count(*) FROM "{name}")' for name in tables)
    with m.runtime.db.transaction() as s:
        row = s.execute(text(f"SELECT {counts}")).one()
        state: dict[str, Any] = dict(zip(tables, row, strict=True))
        for key, model in FINGERPRINTED.items():
            if key in ctx:
                found = s.get(model, ctx[key])
                state[key] = found.model_dump() if found is not None else None
    return state


# ---- preparing targets (each in the caller's transaction, through the real actions) -----------


def _person(s: Session, kind: AccountKind = AccountKind.CITIZEN, agency: Agency | None = None) -> Account:
    n = uuid.uuid4().hex[:12]
    account = Account(
        email=f"m{n}@example.az",
        display_name=f"Person {n[:4]}",
        kind=kind,
        password_hash=FAKE_HASH,
        agency_id=agency.id if agency else None,
        created_at=utcnow(),
    )
    s.add(account)
    s.flush()
    return account


def _consultation(
    s: Session,
    m: Matrix | None,
    *,
    publish: bool = False,
    phase: Phase = Phase.INFORMATION,
    moderation: str = "post",
    agency: Agency | None = None,
    convener: Account | None = None,
) -> Consultation:
    agency = agency or (m.agency if m else None)
    convener = convener or (m.convener if m else None)
    assert agency is not None and convener is not None
    data = ConsultationInput(
        agency_id=agency.id,
        title="Bus lanes on Nizami street",
        summary="Where should the new bus lanes go?",
        body="The agency plans bus lanes and asks residents where they help most.",
        moderation=moderation,  # type: ignore[arg-type]
    )
    c = consultations.do_create_consultation(s, convener, data)
    if phase != Phase.INFORMATION:
        consultations.do_change_phase(s, convener, c, phase)
    if publish:
        consultations.do_publish_consultation(s, convener, c)
    return c


def _proposal(s: Session, m: Matrix, *, moderation: str = "post") -> Proposal:
    c = _consultation(s, m, publish=True, phase=Phase.PROPOSALS, moderation=moderation)
    assert c.id is not None
    data = ProposalInput(title="More buses at night", body="Night buses every 20 minutes on the main lines.")
    return participation_actions.submit_proposal(s, _person(s), c.id, data)


def nothing(s: Session, m: Matrix) -> dict[str, int]:
    return {"agency_id": m.agency.id}


def draft(s: Session, m: Matrix) -> dict[str, int]:
    c = _consultation(s, m)
    assert c.id is not None
    return {"consultation_id": c.id}


def published(s: Session, m: Matrix) -> dict[str, int]:
    c = _consultation(s, m, publish=True)
    assert c.id is not None
    return {"consultation_id": c.id}


def grantee(s: Session, m: Matrix) -> dict[str, int]:
    official = _person(s, AccountKind.OFFICIAL, m.agency)
    assert official.id is not None
    return {"grantee_id": official.id, "agency_id": m.agency.id}


def grantee_on_draft(s: Session, m: Matrix) -> dict[str, int]:
    return {**grantee(s, m), **draft(s, m)}


def agency_grant(s: Session, m: Matrix) -> dict[str, int]:
    official = _person(s, AccountKind.OFFICIAL, m.agency)
    g = Grant(account_id=official.id, role=Role.MODERATOR, agency_id=m.agency.id, granted_at=utcnow())
    s.add(g)
    s.flush()
    assert g.id is not None
    return {"grant_id": g.id}


def consultation_grant(s: Session, m: Matrix) -> dict[str, int]:
    ctx = draft(s, m)
    official = _person(s, AccountKind.OFFICIAL, m.agency)
    g = Grant(
        account_id=official.id,
        role=Role.MODERATOR,
        consultation_id=ctx["consultation_id"],
        granted_at=utcnow(),
    )
    s.add(g)
    s.flush()
    assert g.id is not None
    return {**ctx, "grant_id": g.id}


def unverified_citizen(s: Session, m: Matrix) -> dict[str, int]:
    account = _person(s)
    assert account.id is not None
    return {"account_id": account.id}


def published_proposal(s: Session, m: Matrix) -> dict[str, int]:
    p = _proposal(s, m)
    assert p.id is not None
    return {"proposal_id": p.id, "consultation_id": p.consultation_id}


def open_case(s: Session, m: Matrix) -> dict[str, int]:
    p = _proposal(s, m, moderation="pre")
    assert p.id is not None
    case = moderation.open_pre_moderation_case(s, p.id)
    assert case is not None and case.id is not None
    return {"case_id": case.id, "proposal_id": p.id, "consultation_id": p.consultation_id}


def open_appeal(s: Session, m: Matrix) -> dict[str, int]:
    ctx = open_case(s, m)
    moderation.decide(s, m.moderator, ctx["case_id"], DecisionInput(decision="reject", reason=REASON))
    author = s.get(Proposal, ctx["proposal_id"])
    assert author is not None
    appeal = appeals.file_appeal(
        s, s.get(Account, author.author_id), ctx["case_id"], AppealInput(text="My proposal keeps every rule.")
    )
    assert appeal.id is not None
    return {**ctx, "appeal_id": appeal.id}


def blockable(s: Session, m: Matrix) -> dict[str, int]:
    return {**unverified_citizen(s, m), "agency_id": m.agency.id}


def blocked_citizen(s: Session, m: Matrix) -> dict[str, int]:
    ctx = unverified_citizen(s, m)
    blocks.block_account(s, m.moderator, ctx["account_id"], BlockInput(agency_id=m.agency.id, reason=REASON))
    return ctx


def citizen_to_ask(s: Session, m: Matrix) -> dict[str, int]:
    citizen = _person(s)
    assert citizen.id is not None
    return {"citizen_id": citizen.id, "agency_id": m.agency.id}


def consenting_citizen(s: Session, m: Matrix) -> dict[str, int]:
    """A citizen with a contact e-mail in the vault and a consent to the agency to read it (trust)."""
    from civic.trust import consents, vault
    from civic.trust.keys import trust_keys
    from civic.trust.schemas import ProactiveInput

    ctx = citizen_to_ask(s, m)
    citizen = s.get(Account, ctx["citizen_id"])
    vault.update_vault(
        s, trust_keys(m.runtime.settings).vault, citizen, {"contact_email": "matrix@example.az"}
    )
    consents.grant_proactively(
        s,
        citizen,
        ProactiveInput(
            agency_id=m.agency.id,
            purpose="contact_about_proposal",
            attributes=["contact_email"],
            retention_days=30,
        ),
    )
    return ctx


# ---- the endpoints that need a grant ----------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str  # exactly as the operation declares it
    permission: Permission
    target: str  # "agency" | "consultation" | "anywhere"
    prepare: Callable[[Session, Matrix], dict[str, int]]
    body: Callable[[dict[str, int]], Any] | None = None
    ok: int = 200
    # Bulk: the call needs the permission somewhere; each item then answers for its own scope.
    per_item: bool = False

    def url(self, ctx: dict[str, int]) -> str:
        path = self.path
        for key, value in ctx.items():
            path = path.replace(f"{{{key}:int}}", str(value))
        assert "{" not in path, f"{self.name}: no value for a parameter of {self.path}"
        return path


def _consultation_body(ctx: dict[str, int]) -> dict[str, Any]:
    return {
        "agency_id": ctx["agency_id"],
        "title": "Parking in the old town",
        "summary": "How should parking work in the old town?",
        "body": "The agency asks residents and businesses.",
    }


ROWS: list[Row] = [
    # consultations (participation's API; conveners)
    Row("consultation.create", "POST", "/api/consultations", P.MANAGE_CONSULTATIONS, "agency", nothing, _consultation_body, 201),
    Row("consultation.edit", "PATCH", "/api/consultations/{consultation_id:int}", P.MANAGE_CONSULTATIONS, "consultation", draft, lambda c: {"title": "A clearer title"}),
    Row("consultation.publish", "POST", "/api/consultations/{consultation_id:int}/publication", P.MANAGE_CONSULTATIONS, "consultation", draft),
    Row("consultation.phase", "PUT", "/api/consultations/{consultation_id:int}/phase", P.MANAGE_CONSULTATIONS, "consultation", published, lambda c: {"phase": "proposals"}),
    Row("consultation.close", "POST", "/api/consultations/{consultation_id:int}/close", P.MANAGE_CONSULTATIONS, "consultation", published),
    # grants (administrators)
    Row("grants.list", "GET", "/api/agencies/{agency_id:int}/grants", P.MANAGE_GRANTS, "agency", nothing),
    Row("grants.grant_agency", "POST", "/api/grants", P.MANAGE_GRANTS, "agency", grantee, lambda c: {"account_id": c["grantee_id"], "role": "moderator", "agency_id": c["agency_id"]}, 201),
    Row("grants.grant_consultation", "POST", "/api/grants", P.MANAGE_GRANTS, "consultation", grantee_on_draft, lambda c: {"account_id": c["grantee_id"], "role": "responder", "consultation_id": c["consultation_id"]}, 201),
    Row("grants.revoke_agency", "POST", "/api/grants/{grant_id:int}/revoke", P.MANAGE_GRANTS, "agency", agency_grant, lambda c: {"reason": "Moved to another post."}),
    Row("grants.revoke_consultation", "POST", "/api/grants/{grant_id:int}/revoke", P.MANAGE_GRANTS, "consultation", consultation_grant, lambda c: {"reason": "The consultation ended."}),
    # identity (registrars)
    Row("identity.verify", "POST", "/api/accounts/{account_id:int}/verification", P.VERIFY_IDENTITY, "anywhere", unverified_citizen, lambda c: {"level": "verified"}, 201),
    # moderation and answers (leadership's API)
    Row("moderation.decide", "POST", "/api/moderation/cases/{case_id:int}/decision", P.MODERATE, "consultation", open_case, lambda c: {"decision": "approve", "reason": REASON}),
    Row("moderation.decide_bulk", "POST", "/api/moderation/decisions", P.MODERATE, "consultation", open_case, lambda c: {"case_ids": [c["case_id"]], "decision": "approve", "reason": REASON}, per_item=True),
    Row("moderation.item", "POST", "/api/moderation/items", P.MODERATE, "consultation", published_proposal, lambda c: {"item_kind": "proposal", "item_id": c["proposal_id"], "decision": "hide", "reason": REASON}),
    Row("moderation.appeal_decide", "POST", "/api/moderation/appeals/{appeal_id:int}/decision", P.MODERATE, "consultation", open_appeal, lambda c: {"outcome": "upheld", "reason": REASON}),
    Row("moderation.block", "POST", "/api/accounts/{account_id:int}/block", P.MODERATE, "agency", blockable, lambda c: {"agency_id": c["agency_id"], "reason": REASON}, 201),
    Row("moderation.unblock", "POST", "/api/accounts/{account_id:int}/unblock", P.MODERATE, "agency", blocked_citizen, lambda c: {"reason": REASON}),
    Row("answers.answer", "POST", "/api/proposals/{proposal_id:int}/answers", P.ANSWER_PROPOSALS, "consultation", published_proposal, lambda c: {"status": "under_review", "text": "We are studying this proposal."}, 201),
    # trust: disclosure requests, reads through the consent gate, consented aggregates
    Row("trust.request", "POST", "/api/data-requests", P.REQUEST_DATA, "agency", citizen_to_ask, lambda c: {"agency_id": c["agency_id"], "citizen_id": c["citizen_id"], "purpose": "research", "attributes": ["gender"], "retention_days": 30}, 201),
    Row("trust.read", "POST", "/api/data/reads", P.REQUEST_DATA, "agency", consenting_citizen, lambda c: {"agency_id": c["agency_id"], "citizen_id": c["citizen_id"], "attribute": "contact_email", "purpose": "contact_about_proposal", "served": "Checking the matrix"}),
    Row("trust.profile", "POST", "/api/data/consultations/{consultation_id:int}/profile", P.VIEW_AGGREGATES, "consultation", draft),
]  # fmt: skip

# Non-GET operations that need no grant, and why: acting on one's own account or content, or
# taking part as an e-citizen (refused by eligibility rules, which participation's tests cover).
NO_GRANT: dict[tuple[str, str], str] = {
    ("POST", "/api/accounts"): "registration is open to anyone",
    ("POST", "/api/session"): "logging in",
    ("DELETE", "/api/session"): "logging out",
    ("POST", "/api/consultations/{consultation_id:int}/proposals"): "e-citizens submit proposals",
    ("PUT", "/api/proposals/{proposal_id:int}"): "the author edits their proposal",
    ("POST", "/api/proposals/{proposal_id:int}/withdrawal"): "the author withdraws their proposal",
    ("PUT", "/api/proposals/{proposal_id:int}/support"): "e-citizens support proposals",
    ("DELETE", "/api/proposals/{proposal_id:int}/support"): "e-citizens withdraw their support",
    ("POST", "/api/proposals/{proposal_id:int}/comments"): "e-citizens comment",
    ("PUT", "/api/comments/{comment_id:int}"): "the author edits their comment",
    ("DELETE", "/api/comments/{comment_id:int}"): "the author deletes their comment",
    ("POST", "/api/reports"): "any e-citizen reports an item",
    ("POST", "/api/moderation/cases/{case_id:int}/appeal"): "the author appeals a decision on their content",
    ("POST", "/api/notifications/read"): "one's own inbox",
    ("PUT", "/api/me/vault"): "an e-citizen edits their own data vault",
    ("POST", "/api/me/consents"): "an e-citizen gives a consent of their own accord",
    ("POST", "/api/me/requests/{request_id:int}/consent"): "an e-citizen grants a request addressed to them",
    ("POST", "/api/me/requests/{request_id:int}/refusal"): "an e-citizen refuses a request addressed to them",
    ("POST", "/api/me/consents/{consent_id:int}/withdrawal"): "an e-citizen withdraws their own consent",
}

# ---- the world --------------------------------------------------------------------------------


@contextlib.contextmanager
def _database(tmp: Path) -> Iterator[str]:
    """A database of the module's own: on PostgreSQL a fresh one, dropped afterwards, so no other
    test's clean-up can empty it while the module's world is in use."""
    if BACKEND != "postgres":
        url = f"sqlite:///{tmp / 'matrix.sqlite3'}"
        engine = create_engine(url)
        import_models().metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    name = f"civic_matrix_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # No WAL flush wait at commit: no test here crashes PostgreSQL itself.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = re.sub(r"/[^/]*$", f"/{name}", PG_ADMIN_URL)
    engine = create_engine(url)
    import_models().metadata.create_all(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _grant_for(account: Account, role: Role, scope: str, m: dict[str, Any]) -> Grant:
    now = utcnow()
    where: dict[str, Any] = {
        "target agency": {"agency_id": m["agency"].id},
        "parent ministry": {"agency_id": m["ministry"].id},
        "sibling agency": {"agency_id": m["sibling"].id},
        "target consultation": {"consultation_id": m["draft"].id},
        "other consultation": {"consultation_id": m["other"].id},
        "expired grant": {"agency_id": m["agency"].id, "ends_at": now - timedelta(days=1)},
        "revoked grant": {"agency_id": m["agency"].id, "revoked_at": now - timedelta(hours=1)},
    }[scope]
    return Grant(account_id=account.id, role=role, granted_at=now - timedelta(days=30), **where)


def _build(runtime: Runtime, client: TestClient) -> Matrix:
    settings = runtime.settings
    with runtime.db.transaction() as s:
        ministry = Agency(slug="m-ministry", name="Ministry", name_az="Nazirlik", kind=AgencyKind.MINISTRY)
        s.add(ministry)
        s.flush()
        agency = Agency(
            slug="m-agency",
            name="Transport",
            name_az="Nəqliyyat",
            kind=AgencyKind.AGENCY,
            parent_id=ministry.id,
        )
        sibling = Agency(
            slug="m-sibling",
            name="Culture",
            name_az="Mədəniyyət",
            kind=AgencyKind.AGENCY,
            parent_id=ministry.id,
        )
        s.add_all([agency, sibling])
        s.flush()
        helpers = {"convener": Role.CONVENER, "moderator": Role.MODERATOR}
        made = {}
        for name, role in helpers.items():
            made[name] = _person(s, AccountKind.OFFICIAL, agency)
            s.add(Grant(account_id=made[name].id, role=role, agency_id=agency.id, granted_at=utcnow()))
        s.flush()
        draft_c = _consultation(s, None, agency=agency, convener=made["convener"])
        other_c = _consultation(s, None, agency=agency, convener=made["convener"])
        world = {
            "ministry": ministry,
            "agency": agency,
            "sibling": sibling,
            "draft": draft_c,
            "other": other_c,
        }
        actors: dict[str, Actor] = {}
        for role, scope in itertools.product(Role, SCOPES):
            account = _person(s, AccountKind.OFFICIAL, agency)
            s.add(_grant_for(account, role, scope, world))
            actors[f"{role.value}@{scope}"] = Actor(f"{role.value}@{scope}", role, scope, account)
        actors["citizen"] = Actor("citizen", None, None, _person(s))
        actors["anonymous"] = Actor("anonymous", None, None, None)
        s.flush()
        for actor in actors.values():
            if actor.account is not None:
                actor.token = start_session(s, settings, actor.account)
    return Matrix(
        runtime,
        client,
        ministry,
        agency,
        sibling,
        draft_c,
        other_c,
        made["convener"],
        made["moderator"],
        actors,
        secrets.token_urlsafe(32),
    )


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    tmp = tmp_path_factory.mktemp("matrix")
    prefix = f"civictest:{uuid.uuid4().hex[:10]}"
    with _database(tmp) as url:
        runtime = build_runtime(make_settings(tmp, url, prefix))
        try:
            with TestClient(
                with_leadership(create_app(runtime=runtime)), base_url="http://testserver"
            ) as client:
                yield _build(runtime, client)
        finally:
            runtime.close()
            if BACKEND == "postgres":
                r = redis.Redis.from_url(REDIS_URL)
                keys = list(r.scan_iter(match=f"{prefix}*", count=1000))
                if keys:
                    r.delete(*keys)
                r.close()


def expected(actor: Actor, permission: Permission, target: str) -> bool:
    return actor.role is not None and actor.role in RULES[permission] and target in COVERS[actor.scope or ""]


def assert_names_missing_grant(message: str, permission: Permission) -> None:
    for role in RULES[permission]:
        assert role.value in message, f"the refusal does not name the {role.value} role: {message!r}"


# ---- the matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize("actor_key", ACTOR_KEYS)
@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_endpoint(matrix: Matrix, row: Row, actor_key: str) -> None:
    actor = matrix.actors[actor_key]
    ctx = matrix.target(row)
    if actor.scope == "target consultation" and row.target == "consultation":
        matrix.grant_on_consultation(actor, ctx["consultation_id"])
    allowed = expected(actor, row.permission, row.target)
    before = snapshot(matrix, ctx)
    response = matrix.request(actor, row.method, row.url(ctx), row.body(ctx) if row.body else None)

    if allowed:
        assert response.status_code == row.ok, f"{actor_key} should be allowed: {response.text}"
        if row.per_item:
            assert response.json()["items"][0]["ok"], response.text
        if row.method != "GET":
            matrix.spent(row)
        return

    assert snapshot(matrix, ctx) == before, f"{actor_key} was refused but something was written"
    if actor.account is None:
        assert response.status_code == 401, response.text
        assert "Log in" in response.json()["error"]["message"]
        return
    if row.per_item and actor.role in RULES[row.permission] and COVERS[actor.scope or ""]:
        # A moderator somewhere may send the batch; this item, outside their scope, is refused.
        assert response.status_code == 200, response.text
        item = response.json()["items"][0]
        assert not item["ok"] and item["code"] == "forbidden", item
        assert_names_missing_grant(item["error"], row.permission)
        return
    assert response.status_code == 403, f"{actor_key}: {response.status_code} {response.text}"
    assert_names_missing_grant(response.json()["error"]["message"], row.permission)


# ---- WebSocket topics ---------------------------------------------------------------------------

TOPICS: dict[str, tuple[Permission, str]] = {
    "moderation:agency": (P.MODERATE, "agency"),
    "dashboard:agency": (P.VIEW_DASHBOARD, "agency"),
    "dashboard:global": (P.VIEW_DASHBOARD, "anywhere"),
    "consultation:draft": (P.VIEW_DRAFTS, "consultation"),
}


def _topic(matrix: Matrix, kind: str) -> str:
    return {
        "moderation:agency": f"moderation:agency:{matrix.agency.id}",
        "dashboard:agency": f"dashboard:agency:{matrix.agency.id}",
        "dashboard:global": "dashboard:global",
        "consultation:draft": f"consultation:{matrix.draft.id}",
    }[kind]


@pytest.mark.parametrize("actor_key", ACTOR_KEYS)
@pytest.mark.parametrize("kind", list(TOPICS))
def test_topic(matrix: Matrix, kind: str, actor_key: str) -> None:
    """Through the subscription path itself: the session token resolved, then the topic's rule."""
    actor = matrix.actors[actor_key]
    permission, target = TOPICS[kind]
    topic = _topic(matrix, kind)
    refusals = authorize_topics(matrix.runtime.db, matrix.runtime.settings, actor.token, [topic])
    assert (topic not in refusals) == expected(actor, permission, target), refusals
    if topic in refusals:
        assert refusals[topic].code == "forbidden"


# ---- the guard: no operation left out ---------------------------------------------------------


def test_every_state_changing_operation_is_classified() -> None:
    operations = {(op.method, op.path) for op in all_operations()}
    in_matrix = {(row.method, row.path) for row in ROWS}
    assert not in_matrix & NO_GRANT.keys(), "an operation cannot both need a grant and need none"
    unknown = sorted((in_matrix | NO_GRANT.keys()) - operations)
    assert not unknown, f"rows or exemptions name operations the app does not serve: {unknown}"
    unclassified = sorted(
        (method, path)
        for method, path in operations
        if method != "GET" and (method, path) not in in_matrix and (method, path) not in NO_GRANT
    )
    assert not unclassified, (
        "these operations change state but are neither in the authorization matrix (ROWS) nor "
        f"exempted with a reason (NO_GRANT): {unclassified}"
    )


def test_matrix_covers_every_role_and_scope() -> None:
    """The grid itself: every role in every scope, plus a citizen and an anonymous visitor."""
    assert len(ACTOR_KEYS) == len(Role) * len(SCOPES) + 2
    assert {row.permission for row in ROWS} >= {
        P.MANAGE_CONSULTATIONS,
        P.MANAGE_GRANTS,
        P.VERIFY_IDENTITY,
        P.MODERATE,
        P.ANSWER_PROPOSALS,
    }
