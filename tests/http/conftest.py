"""Fixtures for the HTTP shell's tests; the shared helpers live in tests/http/support.py."""

from tests.http.support import make_client  # noqa: F401  (a fixture, re-exported for this package)
