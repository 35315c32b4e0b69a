"""The event bus: envelope and registry, outbox, relay, backends and handler dispatch."""

from civic.events.envelope import Envelope, EventType, emit, event_type
from civic.events.handlers import Handler, HandlerSet, handler

__all__ = ["Envelope", "EventType", "Handler", "HandlerSet", "emit", "event_type", "handler"]
