"""Fixtures shared by trust's tests (owned by T2, "consent"; additive for every test here).

- `settings`: the suite's settings plus the vault and ledger keys, which production mode (the
  postgres pass) requires and embedded mode would otherwise generate under var/.
- `keys`: the TrustKeys of those settings.
- `world`, `app`, `browser`: participation's cast, app and logged-in API browser
  (see tests/participation/conftest.py).

The database is the suite's own (tests/conftest.py), so the ledger's tests are unaffected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from civic.runtime import Runtime
from civic.settings import Settings
from civic.trust.keys import TrustKeys, trust_keys
from tests.conftest import make_settings
from tests.participation.conftest import app, browser, world  # noqa: F401  (fixtures re-exported)
from tests.trust._consent_support import SIGNING_KEY, VAULT_KEY


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_prefix: str) -> Settings:
    return make_settings(
        tmp_path, database_url, redis_prefix, vault_key=VAULT_KEY, ledger_signing_key=SIGNING_KEY
    )


@pytest.fixture
def keys(runtime: Runtime) -> TrustKeys:
    return trust_keys(runtime.settings)
