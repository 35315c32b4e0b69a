"""/healthz says whether the database (and Redis, in production) answer, for load balancers."""

from __future__ import annotations

import pytest

from tests.conftest import BACKEND

UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:1/civic"


def test_health_reports_the_database_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["mode"] == ("production" if BACKEND == "postgres" else "embedded")
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.services
def test_health_reports_redis_ok_in_production(client):
    body = client.get("/healthz").json()

    assert body["redis"] == "ok"
    assert body["mode"] == "production"


def test_embedded_mode_says_redis_is_not_configured(make_client):
    client, runtime = make_client(redis_url="")

    body = client.get("/healthz").json()

    assert runtime.settings.mode.value == "embedded"
    assert body["redis"].startswith("not configured")


def test_health_is_503_when_the_database_is_unreachable(make_client):
    client, _ = make_client(database_url=UNREACHABLE_DB)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["database"] == "unreachable"


@pytest.mark.services
def test_health_is_503_when_redis_is_unreachable(make_client):
    client, _ = make_client(redis_url="redis://127.0.0.1:1/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["redis"]) == ("degraded", "ok", "unreachable")
