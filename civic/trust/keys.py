"""The trust module's two keys: the data vault's Fernet key and the ledger's Ed25519 signing key.

Mirrors how `Settings.resolved_secret_key` treats the secret key. Production (CIVIC_REDIS_URL set)
must be given both, shared by every web process and worker: CIVIC_VAULT_KEY (a Fernet key, the
urlsafe base64 of 32 random bytes) and CIVIC_LEDGER_SIGNING_KEY (the urlsafe base64 of an Ed25519
private key's 32 raw bytes). In embedded mode a missing key is generated once into var/vault_key
and var/ledger_signing_key (mode 0600), so `civic demo` runs on a bare machine and a restart keeps
reading what it encrypted and keeps signing with the same key.

Losing the vault key loses the vault (by design: nothing else can decrypt it); changing the signing
key only means tree heads signed afterwards verify with the new public key.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from civic.settings import ConfigurationError, Mode, Settings

VAULT_VARIABLE = "CIVIC_VAULT_KEY"
SIGNING_VARIABLE = "CIVIC_LEDGER_SIGNING_KEY"


@dataclass(frozen=True)
class TrustKeys:
    vault: Fernet
    signer: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        """The ledger's public key, 32 raw bytes (what receipts carry, base64-encoded)."""
        return self.signer.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


def new_vault_key() -> str:
    return Fernet.generate_key().decode()


def new_signing_key() -> str:
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.urlsafe_b64encode(raw).decode()


def _decode(value: str) -> bytes:
    text = value.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _vault(value: str, where: str) -> Fernet:
    try:
        return Fernet(value.strip().encode())
    except (ValueError, binascii.Error) as exc:
        raise ConfigurationError(
            f"{where} is not a Fernet key (the urlsafe base64 of 32 bytes); make one with "
            'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        ) from exc


def _signer(value: str, where: str) -> Ed25519PrivateKey:
    try:
        raw = _decode(value)
        if len(raw) != 32:
            raise ValueError("not 32 bytes")
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (ValueError, binascii.Error) as exc:
        raise ConfigurationError(
            f"{where} is not an Ed25519 private key (the urlsafe base64 of its 32 raw bytes); make one "
            'with python -c "from civic.trust.keys import new_signing_key; print(new_signing_key())"'
        ) from exc


def _from_file(path: Path, make: Callable[[], str]) -> str:
    """The key kept at `path`, created (exclusively, 0600) when missing: two processes starting at
    once both end up reading the one that was written first."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(value)
    return value


def _resolve(
    settings: Settings, field: str, variable: str, filename: str, make: Callable[[], str]
) -> tuple[str, str]:
    value = str(getattr(settings, field, "") or "")
    if value:
        return value, variable
    if settings.mode is Mode.PRODUCTION:
        raise ConfigurationError(
            f"Production mode (CIVIC_REDIS_URL is set) needs {variable}: set it to the same value in "
            "every web process and worker (see civic/trust/keys.py for how to make one)."
        )
    path = settings.var_dir / filename
    return _from_file(path, make), str(path)


_cache: dict[tuple[str, ...], TrustKeys] = {}
_lock = threading.Lock()


def trust_keys(settings: Settings) -> TrustKeys:
    """The vault and ledger keys for these settings (generated once in embedded mode, required in
    production). Raises ConfigurationError naming the variable to set."""
    vault_value, vault_where = _resolve(settings, "vault_key", VAULT_VARIABLE, "vault_key", new_vault_key)
    signing_value, signing_where = _resolve(
        settings, "ledger_signing_key", SIGNING_VARIABLE, "ledger_signing_key", new_signing_key
    )
    key = (vault_value, signing_value)
    with _lock:
        if key not in _cache:
            _cache[key] = TrustKeys(_vault(vault_value, vault_where), _signer(signing_value, signing_where))
        return _cache[key]
