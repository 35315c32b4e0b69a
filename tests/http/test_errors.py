"""One JSON error shape for every API failure, calm HTML pages for browsers, and the right status."""

from __future__ import annotations

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from civic.app import create_app
from civic.errors import InvalidInput
from tests.conftest import csrf_token
from tests.factories import make_account
from tests.http.support import Page

UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:1/civic"


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in error["fields"].items())
    if code is not None:
        assert error["code"] == code
    return error


def post_json(client, path, body, **kwargs):
    return client.post(path, json=body, headers={"X-CSRF-Token": csrf_token(client)}, **kwargs)


def test_unknown_api_path_is_404_json(client):
    assert_error_shape(client.get("/api/no-such-thing"), 404, "not_found")
    assert_error_shape(client.get("/api/accounts/not-a-number/verification"), 404, "not_found")


def test_unknown_page_is_404_html_with_the_site_around_it(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = Page(response.text)
    assert page.h1_count == 1
    assert "Page not found" in response.text
    assert "There is nothing at this address." in response.text
    assert page.first("a", href="#main") is not None


def test_a_client_asking_for_json_gets_json_even_off_the_api(client):
    assert_error_shape(client.get("/no-such-page", headers={"Accept": "application/json"}), 404)


def test_wrong_method_on_the_api_is_405_json(client):
    error = assert_error_shape(client.get("/api/accounts"), 405, "method_not_allowed")
    assert error["fields"] == {}


def test_not_logged_in_is_401_json(client):
    assert_error_shape(client.get("/api/me"), 401, "not_authenticated")


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"[" * 100_000, "application/json"),  # deeper than the parser's stack
        (b'{"email": "a@b.az"', "text/plain"),
    ],
    ids=["malformed", "empty", "not-utf8", "nested-too-deep", "truncated"],
)
def test_invalid_json_body_is_422_not_500(client, raw, content_type):
    response = client.post(
        "/api/session",
        content=raw,
        headers={"X-CSRF-Token": csrf_token(client), "Content-Type": content_type},
    )

    error = assert_error_shape(response, 422, "invalid_input")
    assert "body" in error["fields"]


@pytest.mark.parametrize("body", [[], "a string", 42, None])
def test_json_that_is_not_an_object_is_422(client, body):
    error = assert_error_shape(post_json(client, "/api/session", body), 422, "invalid_input")
    assert error["fields"]


def test_field_errors_are_keyed_by_field(client):
    error = assert_error_shape(post_json(client, "/api/session", {"email": "", "password": ""}), 422)

    assert set(error["fields"]) == {"email", "password"}


def test_unexpected_fields_are_named(client):
    error = assert_error_shape(
        post_json(client, "/api/session", {"email": "a@b.az", "password": "x", "admin": True}), 422
    )

    assert "admin" in error["fields"]


def test_conflict_is_409_json(client, runtime):
    with runtime.db.transaction() as session:
        make_account(runtime, session, email="leyla@example.az")

    body = {"email": "leyla@example.az", "display_name": "Leyla", "password": "a long enough password"}
    assert_error_shape(post_json(client, "/api/accounts", body), 409, "duplicate_email")


def test_body_over_the_limit_is_413_for_the_api(make_client):
    client, _ = make_client(max_body_bytes=1024)

    response = post_json(client, "/api/session", {"email": "a@b.az", "password": "x" * 2000})

    error = assert_error_shape(response, 413, "too_large")
    assert "1024" in error["message"]


def test_body_over_the_limit_is_413_for_a_form_page(make_client):
    client, _ = make_client(max_body_bytes=1024)

    response = client.post("/login", data={"csrf_token": csrf_token(client), "email": "a" * 2000})

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "larger than 1024 bytes" in response.text


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(make_client):
    client, _ = make_client(max_body_bytes=1024)

    def chunks():
        for _ in range(10):
            yield b"x" * 200

    response = client.post(
        "/api/session",
        content=chunks(),
        headers={"X-CSRF-Token": csrf_token(client), "Content-Type": "application/json"},
    )

    assert_error_shape(response, 413, "too_large")


def test_a_body_at_the_limit_is_accepted(make_client):
    client, _ = make_client(max_body_bytes=1024)
    body = b'{"email": "a@b.az", "password": "' + b"x" * 100 + b'"}'
    body += b" " * (1024 - len(body))

    response = client.post(
        "/api/session",
        content=body,
        headers={"X-CSRF-Token": csrf_token(client), "Content-Type": "application/json"},
    )

    assert_error_shape(response, 401, "bad_credentials")


def test_an_unreachable_database_is_503_with_retry_after(make_client):
    client, _ = make_client(database_url=UNREACHABLE_DB)

    response = post_json(client, "/api/session", {"email": "a@b.az", "password": "x"})

    assert_error_shape(response, 503, "service_unavailable")
    assert int(response.headers["retry-after"]) >= 1


def test_an_unreachable_database_is_a_calm_503_page_for_browsers(make_client):
    client, _ = make_client(database_url=UNREACHABLE_DB)
    client.cookies.set("civic_session", "some-token")

    response = client.get("/")

    assert response.status_code == 503
    assert "Sorry, something went wrong" in response.text
    assert "The database is unavailable" in response.text
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.services
def test_an_unreachable_rate_limit_store_is_503_not_500(make_client):
    client, runtime = make_client(redis_url="redis://127.0.0.1:1/0")

    response = post_json(client, "/api/session", {"email": "a@b.az", "password": "x"})

    assert_error_shape(response, 503, "service_unavailable")
    assert "retry-after" in response.headers


def _app_with_failing_routes(runtime):
    def boom(_request):
        raise RuntimeError("a bug of ours")

    def bad_input(_request):
        raise InvalidInput("Name is wrong.", {"name": "Too short."})

    app = create_app(runtime=runtime)
    app.router.routes.extend(
        [Route("/api/boom", boom), Route("/boom", boom), Route("/api/bad-input", bad_input)]
    )
    return app


def test_a_bug_is_a_500_in_the_same_shape_without_internals(runtime):
    with TestClient(_app_with_failing_routes(runtime), raise_server_exceptions=False) as client:
        api = client.get("/api/boom")
        page = client.get("/boom")

    error = assert_error_shape(api, 500, "server_error")
    assert "a bug of ours" not in api.text and "Traceback" not in api.text
    assert error["message"].startswith("Something went wrong on our side.")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "a bug of ours" not in page.text and "Traceback" not in page.text
    for response in (api, page):  # sent from outside the guard, so the handler adds them itself
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"


def test_invalid_input_raised_anywhere_keeps_its_field_messages(runtime):
    with TestClient(_app_with_failing_routes(runtime)) as client:
        error = assert_error_shape(client.get("/api/bad-input"), 422, "invalid_input")

    assert error == {"code": "invalid_input", "message": "Name is wrong.", "fields": {"name": "Too short."}}


@pytest.mark.parametrize("account_id", ["0", "2147483648", "99999999999999999999999999"])
def test_an_id_too_large_for_any_row_is_404_not_500(client, account_id):
    response = post_json(client, f"/api/accounts/{account_id}/verification", {"level": "verified"})

    assert_error_shape(response, 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"email": "leyla@example.az", "display_name": "Ley\x00la", "password": "a long enough password"},
            "display_name",
        ),
        (
            {"email": "ley\x00la@example.az", "display_name": "Leyla", "password": "a long enough password"},
            "email",
        ),
        (
            {"email": "leyla@example.az", "display_name": "Ley\nla", "password": "a long enough password"},
            "display_name",
        ),
    ],
)
def test_control_characters_are_422_before_they_reach_the_database(client, runtime, body, field):
    """PostgreSQL refuses NUL in text: without this check the request would be a 500."""
    error = assert_error_shape(post_json(client, "/api/accounts", body), 422, "invalid_input")

    assert set(error["fields"]) == {field}


def test_a_nul_in_a_login_address_is_422_not_500(client):
    error = assert_error_shape(
        post_json(client, "/api/session", {"email": "a\x00@b.az", "password": "x"}), 422
    )

    assert "email" in error["fields"]
