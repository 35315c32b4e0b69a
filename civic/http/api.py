"""JSON API endpoints declared with their request and response models, and the OpenAPI 3.1
document generated from those same declarations, so the document cannot drift from the code.

An endpoint function is plain synchronous domain glue: it gets a `Call` (the open unit of work,
the logged-in account, the runtime) and the validated body, and returns a pydantic model. The
wrapper parses and validates JSON (422 with per-field messages), runs the function in a worker
thread inside one transaction, and serialises the result.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from civic.errors import InvalidInput, NotAuthenticated, NotFound
from civic.i18n import DEFAULT_LOCALE, _, current_locale

# Row ids are PostgreSQL `integer`s: a larger number in a path names nothing, and passing it to
# the database would be a DataError (a 500) instead of the 404 it is.
MAX_ID = 2**31 - 1


def field_errors(exc: ValidationError) -> dict[str, str]:
    """One message per field, worded for the person filling in the form (and read by API users)."""
    fields: dict[str, str] = {}
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(name, friendly_message(error))
    return fields


def friendly_message(error: Any) -> str:
    """pydantic's wording ("String should have at least 2 characters") speaks of types; say what to do."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing" or (error.get("input") == "" and kind != "extra_forbidden"):
        return _("This field is required.")
    if kind == "string_too_short":
        return _("Use at least %(num)s characters.", num=ctx["min_length"])
    if kind == "string_too_long":
        return _("Use at most %(num)s characters.", num=ctx["max_length"])
    if kind == "literal_error":
        return _("Choose one of: %(choices)s.", choices=ctx["expected"].replace(chr(39), ""))
    if kind == "extra_forbidden":
        return _("This field is not accepted here.")
    if kind == "value_error" and "reason" in ctx:  # the e-mail validator explains what is wrong
        # Its reason comes from the email-validator library, in English only.
        return _("Enter a valid e-mail address, like name@example.az. %(reason)s", reason=ctx["reason"])
    if kind == "value_error":  # our own validators' ValueError, already worded (and translated) for people
        return str(error["msg"]).removeprefix("Value error, ")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return _("Send a JSON object with the documented fields.")
    if current_locale() != DEFAULT_LOCALE:
        # pydantic's own messages exist in English only: say it plainly in the reader's language.
        return _("This value is not valid here.")
    return str(error["msg"])


def validate(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_("Some fields need attention."), field_errors(exc)) from exc


@dataclass
class Call:
    """What an endpoint function may use; domain code receives the parts, never the Request."""

    session: Session
    account: Any
    runtime: Any
    path: dict[str, Any]
    client: str
    user_agent: str
    cookies: dict[str, str]
    csrf_token: str
    query: Any = None  # the validated query-parameter model, for endpoints that declare one
    on_response: list[Callable[[Response], None]] = field(default_factory=list)


Transact = Callable[[Request, Callable[[Session, Any], Any]], Any]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    name: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    login: bool
    query: type[BaseModel] | None = None


class Api:
    """Collects endpoints; `routes()` for Starlette, `operations` for the OpenAPI document."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.operations: list[Operation] = []
        self._endpoints: list[tuple[Operation, Callable[..., Any]]] = []

    def endpoint(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        errors: tuple[int, ...] = (),
        login: bool = False,
        query: type[BaseModel] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            implied = (
                ({413, 422} if body else set()) | ({401} if login else set()) | ({422} if query else set())
            )
            all_errors = tuple(sorted(set(errors) | implied))
            op = Operation(
                method, path, fn.__name__, summary, self.tag, body, response, status, all_errors, login, query
            )
            self.operations.append(op)
            self._endpoints.append((op, fn))
            return fn

        return register

    def routes(self, transact: Transact) -> list[Route]:
        return [Route(op.path, _wrap(op, fn, transact), methods=[op.method]) for op, fn in self._endpoints]


def _wrap(op: Operation, fn: Callable[..., Any], transact: Transact) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        if any(isinstance(v, int) and not 0 < v <= MAX_ID for v in request.path_params.values()):
            raise NotFound(_("There is nothing at this address."))
        payload = None
        if op.body is not None:
            raw = await request.body()
            try:
                data = json.loads(raw or b"null")
            except (ValueError, RecursionError) as exc:
                # RecursionError: `[[[[…` nested deeper than the parser's stack, still the client's fault.
                raise InvalidInput(_("The request body is not valid JSON."), {"body": str(exc)}) from exc
            payload = validate(op.body, data)
        query = validate(op.query, dict(request.query_params)) if op.query is not None else None
        call_box: list[Call] = []

        def work(session: Session, account: Any) -> Any:
            call = Call(
                session=session,
                account=account,
                runtime=request.app.state.runtime,
                path=dict(request.path_params),
                client=request.client.host if request.client else "unknown",
                user_agent=request.headers.get("user-agent", ""),
                cookies=dict(request.cookies),
                csrf_token=getattr(request.state, "csrf_token", ""),
                query=query,
            )
            call_box.append(call)
            if op.login and account is None:
                raise NotAuthenticated(_("Log in to use this endpoint."))
            return fn(call, payload) if op.body is not None else fn(call)

        result = await transact(request, work)
        if isinstance(result, Response):
            response = result
        elif result is None:
            response = Response(status_code=op.status)
        else:
            response = JSONResponse(result.model_dump(mode="json"), status_code=op.status)
        for hook in call_box[0].on_response if call_box else []:
            hook(response)
        return response

    endpoint.__name__ = op.name
    return endpoint


_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def openapi_document(
    operations: list[Operation], *, title: str, version: str, session_cookie: str = "civic_session"
) -> dict[str, Any]:
    """An OpenAPI 3.1 document; pydantic's JSON Schema is 2020-12, which 3.1 uses as is.

    `session_cookie` is the cookie's real name (`__Host-civic_session` behind HTTPS)."""
    keys: list[tuple[type[BaseModel], Any]] = []
    for op in operations:
        if op.body is not None and (op.body, "validation") not in keys:
            keys.append((op.body, "validation"))
        if op.response is not None and (op.response, "serialization") not in keys:
            keys.append((op.response, "serialization"))
    refs, schemas = models_json_schema(keys, ref_template="#/components/schemas/{model}")
    components = dict(schemas.get("$defs", {}))
    components["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "fields"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "current": {
                        "type": "object",
                        "description": "On a 409 already_decided: the moderation case as it stands now.",
                    },
                },
            }
        },
    }
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        params = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer"} if kind == "int" else {"type": "string"},
            }
            for name, kind in _PARAM.findall(op.path)
        ] + _query_parameters(op.query)
        responses: dict[str, Any] = {}
        ok: dict[str, Any] = {"description": "Success"}
        if op.response is not None:
            ok["content"] = {"application/json": {"schema": refs[(op.response, "serialization")]}}
        responses[str(op.status)] = ok
        for status in op.errors + (403,):
            responses[str(status)] = {
                "description": _ERROR_TEXT.get(status, "Error"),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        spec: dict[str, Any] = {
            "operationId": op.name,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": params,
            "responses": responses,
        }
        if op.login:
            spec["security"] = [{"session": []}]
        if op.body is not None:
            spec["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        if op.method.upper() not in ("GET", "HEAD"):
            spec["parameters"] = params + [
                {
                    "name": "X-CSRF-Token",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "From GET /api/csrf (or the login response); see the README's API section.",
                }
            ]
        paths.setdefault(_PARAM.sub(r"{\1}", op.path), {})[op.method.lower()] = spec
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": session_cookie}},
        },
    }


_ERROR_TEXT = {
    401: "Not logged in, or wrong credentials",
    403: "Not allowed (missing grant or CSRF token)",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Body too large",
    422: "Invalid input; `fields` says which",
    429: "Too many attempts; see Retry-After",
    503: "A backing service is unavailable; see Retry-After",
}
