"""The list of every module's tables and handlers, in one place.

Modules never import each other; this file is the one that knows them all, so the runtime can
route events and Alembic can see every table.
"""

from __future__ import annotations

from sqlmodel import SQLModel

from civic.events.handlers import Handler, HandlerSet


def import_models() -> type[SQLModel]:
    """Import every module's models so SQLModel.metadata holds every table."""
    import civic.events.models  # noqa: F401
    import civic.identity.models  # noqa: F401
    import civic.participation.models  # noqa: F401

    return SQLModel


def all_handlers() -> list[Handler]:
    return []


def default_handler_set() -> HandlerSet:
    return HandlerSet(all_handlers())
