"""Posting and reporting pace limits (issue #9's abuse limits): bursts of proposals, comments and
reports are refused with a 429 and a wait, counted per account, shared by every process through
Redis in production; nothing is written by a refused attempt."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from civic.errors import RateLimited
from civic.leadership.models import Report
from civic.participation.models import Comment, Proposal
from civic.runtime import Runtime, build_runtime
from civic.settings import Settings
from tests.conftest import BACKEND, make_settings
from tests.leadership.conftest import Scene, comment, established, proposal, report


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_prefix: str) -> Settings:
    return make_settings(
        tmp_path, database_url, redis_prefix, posting_limit="3/minute", reporting_limit="2/hour"
    )


def rows(runtime: Runtime, model, **where) -> int:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as s:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return len(s.exec(query).all())


def test_a_burst_of_posts_is_refused_after_the_posting_limit(runtime: Runtime, scene: Scene):
    author = scene.world.leyla
    first = proposal(runtime, author, scene.consultation)
    comment(runtime, author, first.id, "One.")
    comment(runtime, author, first.id, "Two.")  # three posts: proposals and comments count together

    with pytest.raises(RateLimited) as refused:
        comment(runtime, author, first.id, "Three.")
    assert 1 <= refused.value.retry_after <= 60
    assert "Wait a minute" in refused.value.message
    with pytest.raises(RateLimited):
        proposal(runtime, author, scene.consultation, title="Another idea for the buses")
    assert rows(runtime, Comment, author_id=author.id) == 2
    assert rows(runtime, Proposal, author_id=author.id) == 1

    comment(runtime, scene.world.kamal, first.id, "Someone else may still post.")


def test_a_burst_of_reports_is_refused_after_the_reporting_limit(runtime: Runtime, scene: Scene):
    [reporter] = established(runtime, 1)
    target = proposal(runtime, scene.world.leyla, scene.consultation)
    spam = [comment(runtime, scene.world.kamal, target.id, f"Buy now {i}.") for i in range(3)]
    report(runtime, reporter, "comment", spam[0].id)
    report(runtime, reporter, "comment", spam[1].id)

    with pytest.raises(RateLimited) as refused:
        report(runtime, reporter, "comment", spam[2].id)
    assert refused.value.retry_after > 60
    assert rows(runtime, Report, reporter_id=reporter.id) == 2


@pytest.mark.skipif(BACKEND != "postgres", reason="the shared count lives in Redis (production)")
def test_processes_share_the_count_through_redis(runtime: Runtime, scene: Scene, settings: Settings):
    other_process = build_runtime(settings)
    try:
        author = scene.world.leyla
        first = proposal(runtime, author, scene.consultation)
        comment(other_process, author, first.id, "From the second process.")
        comment(runtime, author, first.id, "Back on the first.")
        with pytest.raises(RateLimited):
            comment(other_process, author, first.id, "Fourth, anywhere.")
    finally:
        other_process.close()
