"""The small pieces forms rely on: where a log-in may send you back, and what a re-shown form keeps."""

from __future__ import annotations

import pytest

from civic.errors import Conflict, InvalidInput, RateLimited
from civic.http.forms import form_failure, safe_next


@pytest.mark.parametrize(
    "target",
    ["/account", "/registrar?email=a%40b.az", "/consultations/7#proposal-3", "/a/b/c?x=1&y=2"],
)
def test_paths_of_this_site_are_kept(target):
    assert safe_next(target, "/fallback") == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "account",  # relative without a slash: resolved against the current page
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "/\\/evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example/",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http:/evil.example",
    ],
)
def test_anything_that_could_leave_the_site_falls_back(target):
    assert safe_next(target, "/fallback") == "/fallback"


def test_a_reshown_form_keeps_what_was_typed_except_secrets():
    exc = InvalidInput("Some fields need attention.", {"display_name": "Too long."})

    failure = form_failure(exc, {"email": "a@b.az", "display_name": "x" * 90, "password": "hunter22"})

    assert failure == {
        "error": "Some fields need attention.",
        "errors": {"display_name": "Too long."},
        "values": {"email": "a@b.az", "display_name": "x" * 90},
        "status": 422,
    }


@pytest.mark.parametrize(("exc", "status"), [(Conflict("taken"), 409), (RateLimited("slow down", 30), 429)])
def test_a_reshown_form_has_the_errors_status_and_no_field_errors(exc, status):
    failure = form_failure(exc, {"email": "a@b.az"})

    assert (failure["status"], failure["errors"], failure["error"]) == (status, {}, exc.message)
