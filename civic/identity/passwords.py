"""argon2id password hashing with parameters from settings, rehashed at login when they change."""

from __future__ import annotations

import secrets
from functools import cached_property

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from civic.settings import Settings


class Passwords:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )

    @cached_property
    def _dummy(self) -> str:
        """Verified against when the account does not exist, so an unknown e-mail costs as much
        time as a wrong password and the two cannot be told apart. Its password is random: no
        one can know it, so no account without a usable hash can be entered with it. Made on
        first use, so processes that never check a password (workers, the CLI) skip the cost."""
        return self._hasher.hash(secrets.token_urlsafe(32))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True only for a real hash of `password`; an absent or empty hash is never a match."""
        try:
            matched = self._hasher.verify(password_hash or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and bool(password_hash)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
