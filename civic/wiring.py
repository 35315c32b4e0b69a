"""The list of every module's tables and handlers, in one place.

Modules never import each other; this file is the one that knows them all, so the runtime can
route events and Alembic can see every table.
"""

from __future__ import annotations

from sqlmodel import SQLModel

from civic.events.handlers import Handler, HandlerSet


def import_models() -> type[SQLModel]:
    """Import every module's models so SQLModel.metadata holds every table."""
    import civic.engagement.models  # noqa: F401
    import civic.events.models  # noqa: F401
    import civic.identity.models  # noqa: F401
    import civic.participation.models  # noqa: F401

    return SQLModel


def all_handlers() -> list[Handler]:
    """Every module's handlers; engagement reads its rules file here, so a broken one stops the start."""
    from civic.engagement.handlers import engagement_handlers

    return [*engagement_handlers()]


def default_handler_set() -> HandlerSet:
    return HandlerSet(all_handlers())
