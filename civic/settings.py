"""All configuration, read once from CIVIC_* environment variables.

Nothing set means the embedded default (SQLite under ./var, in-process bus, inline jobs), so
`civic demo` runs on a bare machine. A PostgreSQL database URL plus a Redis URL means production
mode: Redis Streams for the bus, RQ for jobs, and a secret key that must be given explicitly.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# OWASP ASVS 5 / Password Storage Cheat Sheet minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
ARGON2_MIN_MEMORY_KIB = 19_456
ARGON2_MIN_TIME_COST = 2


class Mode(StrEnum):
    EMBEDDED = "embedded"
    PRODUCTION = "production"


class ConfigurationError(Exception):
    """The settings cannot work; the message says which variable to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVIC_", extra="ignore")

    var_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = ""
    redis_prefix: str = "civic"
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    web_concurrency: int = 1
    log_level: str = "info"

    # Sessions: the cookie carries a random id only; the server keeps the rest.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    secure_cookies: bool | None = None  # None: on in production, off in embedded

    # Passwords (argon2id). Defaults are RFC 9106's low-memory profile, above the OWASP minimum.
    argon2_memory_kib: int = 65_536
    argon2_time_cost: int = 3
    argon2_parallelism: int = 4

    # Abuse limits ("N/period" in the `limits` library's notation).
    login_failure_limit: str = "5/15minutes"
    login_failure_ip_limit: str = "50/15minutes"
    registration_limit: str = "20/hour"
    posting_limit: str = "10/minute"  # proposals and comments together, per account (bursts)
    reporting_limit: str = "30/hour"  # reports per account

    # Event bus.
    relay_in_web: bool | None = None  # None: the web process relays in embedded mode only
    relay_poll_seconds: float = 0.2
    relay_batch_size: int = 500
    stream_history: int = 10_000  # events kept per topic for reconnecting clients
    handler_max_attempts: int = 5
    handler_backoff_seconds: float = 2.0
    job_lease_seconds: float = 60.0  # a queued job not done by then is assumed lost and re-queued
    rq_queue: str = "civic"

    # Trust: the data vault's Fernet key and the consent ledger's Ed25519 signing key (urlsafe
    # base64). Embedded mode generates both once under var/; production must set them.
    vault_key: str = ""
    ledger_signing_key: str = ""
    aggregate_min_cell: int = 5  # consented aggregates: smaller cells are suppressed
    ledger_head_interval_seconds: float = 300.0  # a worker signs a new tree head this often

    # Notification e-mail digests: smtp://, smtp+starttls:// or smtps://user:pass@host:port. Unset:
    # the digest is written as .eml files under var/mail/ so it can be read.
    smtp_url: str = ""
    mail_from: str = "civic <no-reply@civic.invalid>"

    max_body_bytes: int = 1_048_576
    demo_password: str = "civic-demo-2026"  # noqa: S105 (public, for demo data only)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.argon2_memory_kib < ARGON2_MIN_MEMORY_KIB or self.argon2_time_cost < ARGON2_MIN_TIME_COST:
            raise ConfigurationError(
                f"CIVIC_ARGON2_MEMORY_KIB must be at least {ARGON2_MIN_MEMORY_KIB} and "
                f"CIVIC_ARGON2_TIME_COST at least {ARGON2_MIN_TIME_COST} (OWASP minimum for argon2id)."
            )
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigurationError("CIVIC_REDIS_URL must start with redis://, rediss:// or unix://")
        return self

    @property
    def mode(self) -> Mode:
        return Mode.PRODUCTION if self.redis_url else Mode.EMBEDDED

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'civic.sqlite3'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def cookies_secure(self) -> bool:
        return self.mode is Mode.PRODUCTION if self.secure_cookies is None else self.secure_cookies

    @property
    def relays_in_web(self) -> bool:
        return self.mode is Mode.EMBEDDED if self.relay_in_web is None else self.relay_in_web

    def require_production_ready(self) -> None:
        """Refuse to run production with guessable secrets or a database that cannot be shared."""
        if self.mode is not Mode.PRODUCTION:
            return
        if not self.secret_key:
            raise ConfigurationError(
                "Production mode (CIVIC_REDIS_URL is set) needs CIVIC_SECRET_KEY: set it to a long random "
                'value shared by every web process and worker, e.g. python -c "import secrets; '
                'print(secrets.token_urlsafe(48))"'
            )
        if self.is_sqlite:
            raise ConfigurationError(
                "Production mode needs CIVIC_DATABASE_URL=postgresql+psycopg://…: SQLite cannot be shared "
                "by several web processes and workers."
            )

    def resolved_secret_key(self) -> str:
        """The secret key; in embedded mode one is generated once and kept under var/."""
        if self.secret_key:
            return self.secret_key
        self.require_production_ready()
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
