"""Hostile input against the whole JSON API (issue #9, item 3): schemathesis reads `/openapi.json`
from the app itself and throws generated requests at every operation, both well-formed ones
(positive) and ones that break the schema on purpose (negative), as an anonymous caller, as a
verified citizen and as an official who moderates, answers and convenes for an agency.

Every response must be no 5xx, carry a status code the document declares for that operation, the
declared content type, and a body matching the declared schema. The run is bounded and
reproducible: a fixed number of examples per operation and mode, derandomized, no shrinking (a
failure is reported with the exact request and traceback instead), no deadline.

The CSRF header is always the caller's real token: with a generated one every unsafe request
would stop at the guard's 403, and the fuzzing would never reach the endpoints (CSRF itself is
tested in the security checks). Path ids are drawn either as generated or from the few rows the
world holds, so requests reach real consultations, proposals and comments, not only 404s.
Nothing in the document is excluded; `/ws` and the HTML pages are not in it.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.python.asgi import ASGIClient
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from civic.identity.models import Account, AccountKind, Role, VerificationLevel
from civic.runtime import Runtime
from tests.factories import PASSWORD, make_account, make_agency, make_official
from tests.participation.conftest import make_comment, make_consultation, make_proposal

EXAMPLES = 5  # per operation, per generation mode, per caller
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Logging out and logging in (with generated credentials) change who the caller is; they run last
# so every other operation is fuzzed with the caller's own session.
LAST = {("POST", "/api/session"), ("DELETE", "/api/session")}


@dataclass
class Seeded:
    citizen: Account
    official: Account


@pytest.fixture
def seeded(runtime: Runtime) -> Seeded:
    """An agency with one official holding the convener, moderator and responder roles, a
    verified citizen, and a published consultation with a proposal and a comment on it."""
    with runtime.db.transaction() as s:
        agency = make_agency(s, "Transport")
        official = make_official(runtime, s, agency, Role.CONVENER, Role.MODERATOR, Role.RESPONDER)
        citizen = make_account(runtime, s, kind=AccountKind.CITIZEN)
        citizen.verification_level = VerificationLevel.VERIFIED
        citizen.district = "Sabail"
        s.add(citizen)
        s.flush()
        consultation = make_consultation(s, official)
        proposal = make_proposal(s, citizen, consultation)
        assert proposal.id is not None
        make_comment(s, citizen, proposal.id)
        s.expunge_all()
    return Seeded(citizen=citizen, official=official)


@pytest.fixture
def asgi_client(app: Any) -> Iterator[ASGIClient]:
    """schemathesis's own in-process client, kept open for the whole run (its lifespan starts
    once, not per request) and carrying the caller's cookies."""
    with ASGIClient(app) as client:
        yield client


def _token(client: ASGIClient, account: Account | None) -> str:
    if account is None:
        return str(client.get("/api/csrf").json()["csrf_token"])
    csrf = client.get("/api/csrf").json()["csrf_token"]
    response = client.post(
        "/api/session",
        json={"email": account.email, "password": PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def _describe(case: Any, response: Any = None) -> str:
    lines = [
        f"{case.operation.label} [{case.meta.generation.mode.value if case.meta else '?'}]",
        f"  path: {case.path_parameters}  query: {case.query}  headers: {case.headers}",
        f"  body: {case.body!r}"[:2000],
    ]
    if response is not None:
        lines.append(f"  -> {response.status_code} {response.text[:500]}")
    return "\n".join(lines)


@pytest.mark.parametrize("caller", ["anonymous", "citizen", "official"])
def test_every_operation_survives_generated_input(
    caller: str, app: Any, asgi_client: ASGIClient, seeded: Seeded
) -> None:
    account = {"anonymous": None, "citizen": seeded.citizen, "official": seeded.official}[caller]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: ((op.method.upper(), op.path) in LAST, op.path, op.method),
    )
    assert len(operations) > 50, "the document lost its operations"
    failures: list[str] = []
    token = _token(asgi_client, account)

    for operation in operations:
        if account is not None and asgi_client.get("/api/me").status_code != 200:
            token = _token(asgi_client, account)  # a fuzzed request logged the caller out
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
            def run(case: Any, data: st.DataObject) -> None:
                for name, value in list(case.path_parameters.items()):
                    if isinstance(value, int):
                        case.path_parameters[name] = data.draw(st.sampled_from([value, 1, 2, 3]))
                # The session is the caller's cookie jar, never a generated cookie.
                for name in list(case.cookies or {}):
                    if "session" in name or "csrf" in name:
                        del case.cookies[name]
                if case.method.upper() in UNSAFE:
                    case.headers = {**(case.headers or {}), "X-CSRF-Token": token}
                try:
                    response = case.call(session=asgi_client)
                except Exception:
                    failures.append(f"{_describe(case)}\n  raised:\n{traceback.format_exc()}")
                    return
                try:
                    case.validate_response(response, checks=CHECKS)
                except (AssertionError, FailureGroup) as exc:
                    failures.append(f"{_describe(case, response)}\n  {exc}")

            try:
                run()
            except Unsatisfiable:
                # Only in negative mode, for an operation with nothing to break (no parameters, no
                # body: GET /api/csrf, /api/me, ...); its positive run above still went through.
                assert mode is GenerationMode.NEGATIVE, operation.label

    assert not failures, f"{len(failures)} failing request(s) as {caller}:\n\n" + "\n\n".join(failures[:40])
