"""Leadership's HTML pages: the moderation queue and its cases, appeals and blocks, the report
form, the responder's answer form, the inbox and its preferences, the transparency page, an
official's scorecard, and the live dashboards (an agency's and the public one).

Like participation's pages: every page works without JavaScript; POST forms carry the CSRF token
and answer with a 303 and a `?done=` flag; a refusal shows the form again with the error summary,
the text kept and the status the API would give. Every action goes through the same domain
function as the JSON API, so the grant checks are the same.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from civic.leadership.pages.appeals import appeal_form, appeals_page, decide_appeal
from civic.leadership.pages.blocks import block_page, blocks_page, unblock
from civic.leadership.pages.citizens import mark_read, notifications_page, report_page
from civic.leadership.pages.dashboard import agency_dashboard_page, public_dashboard_page
from civic.leadership.pages.moderation import bulk_decide, case_page, item_page, queue_page
from civic.leadership.pages.officials import answer_page, my_scorecard_page, transparency_page
from civic.leadership.pages.preferences import live_state, preferences_page

ITEM = "{kind:str}/{item_id:int}"


def routes() -> list[BaseRoute]:
    return [
        Route("/moderation", queue_page),
        Route("/moderation/dashboard", agency_dashboard_page),
        Route("/moderation/bulk", bulk_decide, methods=["POST"]),
        Route("/moderation/cases/{case_id:int}", case_page, methods=["GET", "POST"]),
        Route(f"/moderation/items/{ITEM}", item_page, methods=["GET", "POST"]),
        Route("/moderation/appeals", appeals_page),
        Route("/moderation/appeals/{appeal_id:int}", decide_appeal, methods=["POST"]),
        Route("/moderation/blocks", blocks_page),
        Route("/moderation/accounts/{account_id:int}/block", block_page, methods=["GET", "POST"]),
        Route("/moderation/accounts/{account_id:int}/unblock", unblock, methods=["POST"]),
        Route(f"/report/{ITEM}", report_page, methods=["GET", "POST"]),
        Route(f"/appeal/{ITEM}", appeal_form, methods=["GET", "POST"]),
        Route("/proposals/{proposal_id:int}/answer", answer_page, methods=["GET", "POST"]),
        Route("/notifications", notifications_page),
        Route("/notifications/read", mark_read, methods=["POST"]),
        Route("/notifications/preferences", preferences_page, methods=["GET", "POST"]),
        Route("/notifications/live.json", live_state),
        Route("/dashboard", public_dashboard_page),
        Route("/transparency", transparency_page),
        Route("/console/scorecard", my_scorecard_page),
    ]
