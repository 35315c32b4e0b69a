"""The list of every module's tables and handlers, in one place.

Modules never import each other; this file is the one that knows them all, so the runtime can
route events and Alembic can see every table.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import SQLModel

from civic.events.handlers import Handler, HandlerSet
from civic.settings import Settings


def import_models() -> type[SQLModel]:
    """Import every module's models so SQLModel.metadata holds every table."""
    import civic.engagement.models  # noqa: F401
    import civic.events.models  # noqa: F401
    import civic.identity.models  # noqa: F401
    import civic.identity.standing  # noqa: F401
    import civic.leadership.models  # noqa: F401
    import civic.participation.models  # noqa: F401
    import civic.trust.ledger_models  # noqa: F401
    import civic.trust.models  # noqa: F401

    return SQLModel


def all_handlers() -> list[Handler]:
    """Every module's handlers; engagement reads its rules file here, so a broken one stops the start."""
    from civic.engagement.handlers import engagement_handlers
    from civic.leadership.handlers import leadership_handlers

    return [*engagement_handlers(), *leadership_handlers()]


def default_handler_set() -> HandlerSet:
    return HandlerSet(all_handlers())


def attach_services(engine: Engine, settings: Settings) -> None:
    """Give modules the services their handlers reach through the session's engine (engagement's
    Redis leaderboards in production). Called by whoever builds a runtime."""
    from civic.engagement.boards import attach

    attach(engine, settings)
