"""Helpers shared by the identity and HTTP tests: apps built with other settings, logging in
through the real endpoints, counting rows, and reading HTML with the standard library."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, select
from starlette.testclient import TestClient

from civic.app import create_app
from civic.runtime import Runtime, build_runtime
from tests.conftest import csrf_token, form_token, make_settings
from tests.factories import PASSWORD

MakeClient = Callable[..., tuple[TestClient, Runtime]]


@pytest.fixture
def make_client(tmp_path: Path, database_url: str, redis_prefix: str) -> Iterator[MakeClient]:
    """Build (client, runtime) on the test database with settings overrides; closed at teardown.

    `base_url` is taken out of the overrides: use https://… when the cookies are Secure, since
    the test client (like a browser) will not send a Secure cookie over plain http.
    """
    with ExitStack() as stack:

        def build(*, base_url: str = "http://testserver", **overrides: Any) -> tuple[TestClient, Runtime]:
            settings = make_settings(
                tmp_path, overrides.pop("database_url", database_url), redis_prefix, **overrides
            )
            runtime = build_runtime(settings)
            stack.callback(runtime.close)
            client = stack.enter_context(TestClient(create_app(runtime=runtime), base_url=base_url))
            return client, runtime

        yield build


def count(runtime: Runtime, model: type[SQLModel], *where: Any) -> int:
    with runtime.db.transaction() as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def api_login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/api/session",
        json={"email": email, "password": password},
        headers={"X-CSRF-Token": csrf_token(client)},
    )


def form_login(client: TestClient, email: str, password: str = PASSWORD, **extra: str) -> Any:
    page = client.get("/login")
    data = {"csrf_token": form_token(page.text), "email": email, "password": password, **extra}
    return client.post("/login", data=data, follow_redirects=False)


def set_cookie_headers(response: Any) -> list[str]:
    return [value for key, value in response.headers.multi_items() if key.lower() == "set-cookie"]


def cookie_header_for(response: Any, name: str) -> str:
    """The one Set-Cookie header that sets `name`; fails if there is none."""
    found = [h for h in set_cookie_headers(response) if h.startswith(f"{name}=")]
    assert len(found) == 1, f"expected one Set-Cookie for {name}, got {set_cookie_headers(response)}"
    return found[0]


class Page(HTMLParser):
    """The parts of a page the accessibility checks need: headings, inputs, labels, links, ids."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.labels_for: set[str] = set()
        self.inputs: list[dict[str, str]] = []
        self.ids: list[str] = []
        self.h1_count = 0
        self._label_depth = 0
        self.inputs_in_label: list[dict[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        if "id" in values:
            self.ids.append(values["id"])
        if tag == "h1":
            self.h1_count += 1
        if tag == "label":
            self._label_depth += 1
            if "for" in values:
                self.labels_for.add(values["for"])
        if tag in ("input", "select", "textarea"):
            (self.inputs_in_label if self._label_depth else self.inputs).append(values)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label_depth:
            self._label_depth -= 1

    def first(self, tag: str, **attrs: str) -> dict[str, str] | None:
        for name, values in self.tags:
            if name == tag and all(values.get(k) == v for k, v in attrs.items()):
                return values
        return None

    def unlabelled_inputs(self) -> list[dict[str, str]]:
        """Visible form controls that no <label for> names (wrapping labels count as labels)."""
        exempt = {"hidden", "submit", "button", "reset", "image"}
        return [
            i
            for i in self.inputs
            if i.get("type", "text") not in exempt and (not i.get("id") or i["id"] not in self.labels_for)
        ]
