"""Participation's HTML pages: consultations, proposals, supports and comments.

Every page works without JavaScript: links and GET forms to read, filter, sort and page; POST
forms (with the CSRF token) to act, answered with a 303 back to the page and a `?done=` flag the
page turns into a status message. A refusal re-renders the page with the error summary, the
user's text kept and the status an API client would get.

Thin like identity's routes: parse, then one `transact` that calls participation's actions (every
write) or queries (every read), then render or redirect. Domain code never sees the Request.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from civic.participation.pages.comments import delete_comment, edit_comment_page, post_comment
from civic.participation.pages.consultations import consultation_page, consultations_page
from civic.participation.pages.proposals import (
    edit_proposal_page,
    new_proposal_page,
    proposal_page,
    support,
    unsupport,
    withdraw_page,
)


def routes() -> list[BaseRoute]:
    return [
        Route("/consultations", consultations_page),
        Route("/consultations/{consultation_id:int}", consultation_page),
        Route(
            "/consultations/{consultation_id:int}/proposals/new", new_proposal_page, methods=["GET", "POST"]
        ),
        Route("/proposals/{proposal_id:int}", proposal_page),
        Route("/proposals/{proposal_id:int}/edit", edit_proposal_page, methods=["GET", "POST"]),
        Route("/proposals/{proposal_id:int}/withdraw", withdraw_page, methods=["GET", "POST"]),
        Route("/proposals/{proposal_id:int}/support", support, methods=["POST"]),
        Route("/proposals/{proposal_id:int}/unsupport", unsupport, methods=["POST"]),
        Route("/proposals/{proposal_id:int}/comments", post_comment, methods=["POST"]),
        Route("/comments/{comment_id:int}/edit", edit_comment_page, methods=["GET", "POST"]),
        Route("/comments/{comment_id:int}/delete", delete_comment, methods=["POST"]),
    ]
