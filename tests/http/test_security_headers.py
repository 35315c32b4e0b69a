"""Every response carries the security headers, including refusals made before any route runs."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.conftest import csrf_token


def csp_directives(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.strip().split(" ", 1)[0]: part.strip() for part in policy.split(";") if part.strip()}


def responses(client: TestClient, make_client) -> dict[str, object]:
    small, _ = make_client(max_body_bytes=64)
    return {
        "home page": client.get("/"),
        "form page": client.get("/login"),
        "json": client.get("/api/csrf"),
        "openapi": client.get("/openapi.json"),
        "health": client.get("/healthz"),
        "static": client.get("/static/civic.css"),
        "404 page": client.get("/nope"),
        "404 json": client.get("/api/nope"),
        "redirect": client.get("/account", follow_redirects=False),
        "csrf refusal": client.post("/api/session", json={}),
        "413": small.post("/api/session", content=b"x" * 100, headers={"X-CSRF-Token": csrf_token(small)}),
    }


@pytest.fixture
def every_kind_of_response(client, make_client):
    return responses(client, make_client)


def test_every_response_has_the_security_headers(every_kind_of_response):
    for name, response in every_kind_of_response.items():
        headers = response.headers
        assert headers.get("x-content-type-options") == "nosniff", name
        assert headers.get("referrer-policy") == "same-origin", name
        assert headers.get("x-frame-options") == "DENY", name
        assert "content-security-policy" in headers, name
        assert len(headers.get_list("content-security-policy")) == 1, name


def test_csp_forbids_inline_code_framing_and_plugins(client):
    response = client.get("/")
    policy = response.headers["content-security-policy"]
    directives = csp_directives(response)

    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["default-src"] == "default-src 'self'"
    assert directives["script-src"] == "script-src 'self'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert directives["object-src"] == "object-src 'none'"
    assert directives["base-uri"] == "base-uri 'self'"
    assert directives["form-action"] == "form-action 'self'"


def test_pages_contain_no_inline_script_or_style_the_csp_would_block(client):
    for path in ("/", "/login", "/register", "/nope"):
        html = client.get(path).text.lower()
        assert "<script>" not in html and "<style" not in html and " style=" not in html, path
        assert " onclick=" not in html and "javascript:" not in html, path


def test_hsts_only_when_served_over_https(client, make_client):
    secure, _ = make_client(secure_cookies=True, base_url="https://testserver")

    assert "strict-transport-security" not in client.get("/").headers
    hsts = secure.get("/").headers["strict-transport-security"]
    assert "max-age=63072000" in hsts and "includeSubDomains" in hsts


def test_a_route_setting_its_own_header_is_not_overridden_or_doubled(client):
    response = client.get("/healthz")

    assert response.headers["cache-control"] == "no-store"
    assert len(response.headers.get_list("x-frame-options")) == 1
