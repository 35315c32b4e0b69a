"""Events engagement emits: a citizen's points went up or down.

They go only to the citizen's own topic (`user:{id}`): a balance is theirs to see, and the payload
holds ids, numbers and the rule's public wording, never personal data.
"""

from __future__ import annotations

from pydantic import BaseModel

from civic.events import topics
from civic.events.envelope import event_type


class PointsChanged(BaseModel):
    account_id: int
    points: int  # the change: positive when awarded, negative when reversed
    balance: int  # the balance after the change
    rule: str
    reason: str


POINTS_AWARDED = event_type("points.awarded", PointsChanged, topics=lambda d: [topics.user(d.account_id)])
POINTS_REVERSED = event_type("points.reversed", PointsChanged, topics=lambda d: [topics.user(d.account_id)])


class BadgeEarned(BaseModel):
    """A citizen reached a new level of a badge (announced once per level, to them only)."""

    account_id: int
    badge: str
    title: str
    level: int  # 1-5
    count: int


BADGE_EARNED = event_type("badge.earned", BadgeEarned, topics=lambda d: [topics.user(d.account_id)])


class LevelChanged(BaseModel):
    account_id: int
    level: int
    previous_level: int
    name: str


LEVEL_CHANGED = event_type("level.changed", LevelChanged, topics=lambda d: [topics.user(d.account_id)])
