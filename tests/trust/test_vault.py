"""The data vault: encrypted at rest (the raw database bytes never hold a value), bound to its
account and attribute, validated, and readable in the clear only by its owner."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from civic.errors import InvalidInput, NotAuthenticated
from civic.identity.models import Account
from civic.runtime import Runtime
from civic.settings import ConfigurationError, Settings
from civic.trust import vault
from civic.trust.keys import new_vault_key, trust_keys
from civic.trust.models import VaultEntry
from tests.conftest import BACKEND
from tests.participation.conftest import World
from tests.trust._consent_support import run, set_vault

EMAIL = "very.private.person@example.az"
PHONE = "+994 50 123 45 67"


def test_values_are_encrypted_at_rest(runtime: Runtime, world: World, keys) -> None:
    set_vault(runtime, keys, world.leyla, contact_email=EMAIL, contact_phone=PHONE, age_band="25_34")
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT attribute, ciphertext FROM vault_entry")).all()
    assert {r[0] for r in rows} == {"contact_email", "contact_phone", "age_band"}
    for _attribute, ciphertext in rows:
        raw = bytes(ciphertext)
        assert EMAIL.encode() not in raw and b"25_34" not in raw and PHONE.encode() not in raw
    if BACKEND == "sqlite":  # the database file itself, every page of it
        path = Path(runtime.settings.effective_database_url.split("///", 1)[1])
        runtime.db.engine.dispose()
        for file in path.parent.glob(path.name + "*"):
            assert EMAIL.encode() not in file.read_bytes()
    mine = run(runtime, lambda s: vault.own_vault(s, keys.vault, s.get(Account, world.leyla.id)))
    assert mine == {"contact_email": EMAIL, "contact_phone": PHONE, "age_band": "25_34"}


def test_update_removes_and_validates(runtime: Runtime, world: World, keys) -> None:
    set_vault(runtime, keys, world.leyla, contact_email=EMAIL, gender="female")
    set_vault(runtime, keys, world.leyla, contact_email="")
    assert run(runtime, lambda s: vault.own_vault(s, keys.vault, s.get(Account, world.leyla.id))) == {
        "gender": "female"
    }
    for bad in (
        {"age_band": "old"},
        {"contact_email": "not-an-address"},
        {"contact_phone": "call me"},
        {"iq": "1"},
    ):
        with pytest.raises(InvalidInput) as caught:
            set_vault(runtime, keys, world.leyla, **bad)
        assert set(caught.value.fields) == set(bad)
    with pytest.raises(NotAuthenticated):
        run(runtime, lambda s: vault.own_vault(s, keys.vault, None))


def test_a_row_moved_to_another_account_does_not_open(runtime: Runtime, world: World, keys) -> None:
    set_vault(runtime, keys, world.leyla, contact_email=EMAIL)
    with runtime.db.transaction() as s:
        entry = s.exec(select(VaultEntry)).one()
        entry.account_id = world.kamal.id
        s.add(entry)
    with pytest.raises(vault.VaultCorrupted):
        run(runtime, lambda s: vault.own_vault(s, keys.vault, s.get(Account, world.kamal.id)))


def test_keys_generated_once_in_embedded_mode_and_required_in_production(tmp_path: Path) -> None:
    embedded = Settings(var_dir=tmp_path / "var", argon2_memory_kib=19_456, argon2_time_cost=2)
    first = trust_keys(embedded)
    assert (tmp_path / "var" / "vault_key").stat().st_mode & 0o777 == 0o600
    again = trust_keys(Settings(var_dir=tmp_path / "var", argon2_memory_kib=19_456, argon2_time_cost=2))
    assert again.public_key == first.public_key
    assert again.vault.decrypt(first.vault.encrypt(b"x")) == b"x"
    production = Settings(var_dir=tmp_path / "p", redis_url="redis://localhost:1/0", secret_key="s")
    with pytest.raises(ConfigurationError, match="CIVIC_VAULT_KEY"):
        trust_keys(production)
    with pytest.raises(ConfigurationError, match="CIVIC_LEDGER_SIGNING_KEY"):
        trust_keys(production.model_copy(update={"vault_key": new_vault_key()}))
