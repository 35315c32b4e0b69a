"""argon2id with at least OWASP's parameters, and old hashes upgraded at the next good login."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher, Type

from civic.identity.models import Account
from civic.identity.passwords import Passwords
from civic.settings import ARGON2_MIN_MEMORY_KIB, ARGON2_MIN_TIME_COST, ConfigurationError, Settings
from tests.factories import PASSWORD, make_account
from tests.http.support import api_login

# OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1 at the least.
OWASP_MEMORY_KIB, OWASP_TIME, OWASP_LANES = 19 * 1024, 2, 1


def parameters(password_hash: str) -> dict[str, int]:
    match = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+$", password_hash)
    assert match, f"not an argon2id v1.3 PHC string: {password_hash!r}"
    m, t, p = (int(x) for x in match.groups())
    return {"m": m, "t": t, "p": p}


def stored_hash(runtime, account_id: int) -> str:
    with runtime.db.transaction() as session:
        return session.get(Account, account_id).password_hash


def test_default_settings_hash_with_argon2id_above_the_owasp_minimum(tmp_path):
    passwords = Passwords(Settings(var_dir=tmp_path))

    params = parameters(passwords.hash("correct horse battery staple"))

    assert params["m"] >= OWASP_MEMORY_KIB and params["t"] >= OWASP_TIME and params["p"] >= OWASP_LANES
    assert (params["m"], params["t"], params["p"]) == (65_536, 3, 4)  # RFC 9106 low-memory profile


def test_stored_hashes_are_argon2id_with_the_configured_parameters(runtime):
    with runtime.db.transaction() as session:
        account = make_account(runtime, session)

    params = parameters(stored_hash(runtime, account.id))

    assert params == {"m": 19_456, "t": 2, "p": 1}
    assert ARGON2_MIN_MEMORY_KIB >= OWASP_MEMORY_KIB and ARGON2_MIN_TIME_COST >= OWASP_TIME


def test_the_same_password_hashes_differently_each_time(runtime):
    first, second = runtime.passwords.hash(PASSWORD), runtime.passwords.hash(PASSWORD)

    assert first != second
    assert runtime.passwords.verify(first, PASSWORD) and runtime.passwords.verify(second, PASSWORD)


@pytest.mark.parametrize(("memory", "time"), [(ARGON2_MIN_MEMORY_KIB - 1, 2), (ARGON2_MIN_MEMORY_KIB, 1)])
def test_settings_refuse_parameters_below_the_minimum(tmp_path, memory, time):
    with pytest.raises(ConfigurationError, match="OWASP"):
        Settings(var_dir=tmp_path, argon2_memory_kib=memory, argon2_time_cost=time)


@pytest.mark.parametrize(
    "old_hasher",
    [
        PasswordHasher(time_cost=1, memory_cost=8_192, parallelism=1, type=Type.ID),  # weaker, older
        PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, type=Type.I),  # argon2i
        PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=2, type=Type.ID),  # other lanes
    ],
)
def test_an_old_hash_is_replaced_at_the_next_successful_login(client, runtime, old_hasher):
    with runtime.db.transaction() as session:
        account = make_account(runtime, session, email="leyla@example.az")
        account.password_hash = old_hasher.hash(PASSWORD)
        session.add(account)
    old = stored_hash(runtime, account.id)

    assert api_login(client, "leyla@example.az").status_code == 200

    new = stored_hash(runtime, account.id)
    assert new != old
    assert parameters(new) == {"m": 19_456, "t": 2, "p": 1}
    assert runtime.passwords.verify(new, PASSWORD)
    assert api_login(client, "leyla@example.az").status_code == 200
    assert stored_hash(runtime, account.id) == new  # current hashes are left alone


def test_a_failed_login_does_not_touch_an_old_hash(client, runtime):
    weak = PasswordHasher(time_cost=1, memory_cost=8_192, parallelism=1, type=Type.ID)
    with runtime.db.transaction() as session:
        account = make_account(runtime, session, email="leyla@example.az")
        account.password_hash = weak.hash(PASSWORD)
        session.add(account)
    old = stored_hash(runtime, account.id)

    assert api_login(client, "leyla@example.az", "wrong password").status_code == 401

    assert stored_hash(runtime, account.id) == old


@pytest.mark.parametrize("unusable", ["", "not-a-hash", "$argon2id$broken"])
def test_an_account_without_a_usable_hash_cannot_be_entered(client, runtime, unusable):
    with runtime.db.transaction() as session:
        account = make_account(runtime, session, email="leyla@example.az")
        account.password_hash = unusable
        session.add(account)

    for guess in (PASSWORD, "", "civic-timing-equaliser"):
        assert not runtime.passwords.verify(unusable, guess)
    assert api_login(client, "leyla@example.az").status_code == 401
