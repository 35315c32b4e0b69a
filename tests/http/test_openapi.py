"""/openapi.json is an OpenAPI 3.1 document that matches the routes and whose schemas resolve.

Validated structurally here; the full validators (openapi-spec-validator, jsonschema) are used
when installed, which they are not required to be.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import Route

from tests.conftest import csrf_token

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def document(client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def operations(document) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, spec)
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method in METHODS
    ]


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"external or malformed $ref {ref!r}"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"$ref {ref!r} does not resolve"
        node = node[part]
    return node


def all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in all_refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in all_refs(value)]
    return []


def schema_of(document, content: dict[str, Any]) -> dict[str, Any]:
    schema = content["application/json"]["schema"]
    return resolve(document, schema["$ref"]) if "$ref" in schema else schema


def test_it_is_openapi_3_1_with_info(document):
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["paths"]


def test_every_ref_in_the_document_resolves(document):
    refs = all_refs(document)

    assert refs
    for ref in refs:
        resolve(document, ref)


def test_the_document_lists_exactly_the_api_routes(app, document):
    routed = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/"):
            for method in route.methods or set():
                if method != "HEAD":
                    routed.add((method.lower(), re.sub(r"{(\w+):\w+}", r"{\1}", route.path)))

    documented = {(method, path) for method, path, _ in operations(document)}

    assert documented == routed


def test_operation_ids_are_unique_and_every_operation_is_described(document):
    ids = [spec["operationId"] for _, _, spec in operations(document)]

    assert len(ids) == len(set(ids))
    for _, _, spec in operations(document):
        assert spec["summary"] and spec["tags"]


def test_every_path_parameter_is_declared(document):
    for method, path, spec in operations(document):
        named = set(re.findall(r"{(\w+)}", path))
        declared = {p["name"] for p in spec["parameters"] if p["in"] == "path"}
        assert named == declared, (method, path)
        for parameter in spec["parameters"]:
            assert parameter["in"] != "path" or parameter["required"] is True
            schema = parameter["schema"]
            assert "type" in schema if parameter["in"] == "path" else ("type" in schema or "anyOf" in schema)


def test_every_operation_has_resolving_request_and_response_schemas(document):
    from civic.app import api_operations

    takes_body = {
        (op.method.lower(), re.sub(r"{(\w+):\w+}", r"{\1}", op.path)) for op in api_operations() if op.body
    }
    for method, path, spec in operations(document):
        successes = [code for code in spec["responses"] if code.startswith("2")]
        assert len(successes) == 1, (method, path)
        success = spec["responses"][successes[0]]
        if successes[0] != "204":
            body = schema_of(document, success["content"])
            assert body["type"] == "object" and body["properties"], (method, path)
        assert ("requestBody" in spec) == ((method, path) in takes_body), (method, path)
        if (method, path) in takes_body:
            request = spec["requestBody"]
            assert request["required"] is True
            body = schema_of(document, request["content"])
            assert body["type"] == "object" and body["properties"], (method, path)
            assert "422" in spec["responses"] and "413" in spec["responses"]


def test_every_error_response_uses_the_one_error_shape(document):
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(error["properties"]["error"]["required"]) == {"code", "message", "fields"}
    for method, path, spec in operations(document):
        for code, response in spec["responses"].items():
            if int(code) >= 400:
                assert response["description"]
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }


def test_unsafe_operations_declare_the_csrf_header(document):
    for method, path, spec in operations(document):
        headers = {p["name"] for p in spec["parameters"] if p["in"] == "header"}
        assert ("X-CSRF-Token" in headers) == (method not in ("get", "head", "options")), (method, path)


def test_operations_needing_a_login_say_so(document):
    scheme = document["components"]["securitySchemes"]["session"]
    assert scheme == {"type": "apiKey", "in": "cookie", "name": "civic_session"}
    by_id = {spec["operationId"]: spec for _, _, spec in operations(document)}
    assert by_id["get_me"]["security"] == [{"session": []}]
    assert "401" in by_id["get_me"]["responses"]
    assert "security" not in by_id["create_account"]


def test_registration_schema_documents_its_limits(document):
    schemas = document["components"]["schemas"]
    registration = next(s for name, s in schemas.items() if name.startswith("Registration"))

    assert registration["properties"]["display_name"]["maxLength"] == 80
    assert registration["properties"]["password"]["minLength"] == 10
    assert registration["additionalProperties"] is False
    assert set(registration["required"]) == {"email", "display_name", "password"}


def test_the_document_passes_the_official_validator_when_installed(document):
    validator = pytest.importorskip("openapi_spec_validator")

    validator.validate(document)


def test_real_responses_match_their_documented_schemas(client, document):
    jsonschema = pytest.importorskip("jsonschema")
    token = csrf_token(client)
    created = client.post(
        "/api/accounts",
        json={"email": "leyla@example.az", "display_name": "Leyla", "password": "a long enough password"},
        headers={"X-CSRF-Token": token},
    )
    duplicate = client.post(
        "/api/accounts",
        json={"email": "leyla@example.az", "display_name": "Leyla", "password": "a long enough password"},
        headers={"X-CSRF-Token": token},
    )
    spec = document["paths"]["/api/accounts"]["post"]

    for response in (created, duplicate):
        documented = spec["responses"][str(response.status_code)]["content"]["application/json"]["schema"]
        schema = {**documented, "components": document["components"]}
        jsonschema.Draft202012Validator(schema).validate(response.json())
