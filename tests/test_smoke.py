from tests.conftest import csrf_token


def test_home_page_and_health_answer(client):
    assert client.get("/").status_code == 200
    health = client.get("/healthz").json()
    assert health["database"] == "ok"


def test_register_over_api_then_see_me(client):
    token = csrf_token(client)
    created = client.post(
        "/api/accounts",
        json={"email": "Aysel@Example.az", "display_name": "Aysel", "password": "long enough pass"},
        headers={"X-CSRF-Token": token},
    )
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "aysel@example.az"
    login = client.post(
        "/api/session",
        json={"email": "aysel@example.az", "password": "long enough pass"},
        headers={"X-CSRF-Token": token},
    )
    assert login.status_code == 200, login.text
    assert client.get("/api/me").json()["display_name"] == "Aysel"
