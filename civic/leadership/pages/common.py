"""Helpers leadership's pages share; the form flow itself is participation's (`_submit_form`:
one transaction, 303 with `?done=` on success, the form again with the API's status on a refusal)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from civic.errors import NotFound
from civic.http.api import MAX_ID
from civic.i18n import _
from civic.identity.models import Account
from civic.leadership.reports import Item, load_item
from civic.participation.pages.common import (
    _choice,
    _done,
    _login,
    _number,
    _page,
    _path_id,
    _refuse,
    _signed_in,
    _submit_form,
)

__all__ = [
    "_choice",
    "_done",
    "_login",
    "_number",
    "_page",
    "_path_id",
    "_refuse",
    "_signed_in",
    "_submit_form",
    "optional_id",
    "item_link",
    "item_view",
    "ITEM_KINDS",
]

ITEM_KINDS = ("proposal", "comment")


def optional_id(value: str | None) -> int | None:
    """A filter's row id from the query string; anything else means no filter."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number <= MAX_ID else None


def item_link(kind: str, item_id: int, proposal_id: int) -> str:
    """Where an item is read: its proposal's page, at the comment for a comment."""
    return f"/proposals/{proposal_id}" + (f"#comment-{item_id}" if kind == "comment" else "")


def item_view(session: Session, kind: str, item_id: int) -> tuple[Item, dict[str, Any]]:
    """The item and what a page shows of it (title, text, where it lives)."""
    if kind not in ITEM_KINDS:
        raise NotFound(_("There is nothing at this address."))
    item = load_item(session, kind, item_id)
    proposal = item.proposal
    assert proposal.id is not None
    text_html = item.comment.body_html if item.comment else proposal.body_html
    return item, {
        "kind": kind,
        "id": item_id,
        "title": item.title,
        "proposal_id": proposal.id,
        "proposal_title": proposal.title,
        "text_html": text_html,
        "status": item.status,
        "link": item_link(kind, item_id, proposal.id),
        "consultation": item.consultation,
    }


def signed_in(account: Account | None) -> Account:
    return _signed_in(account)
