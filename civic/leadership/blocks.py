"""Blocking an account: everything it wrote in the moderator's agency (and the units below) is
hidden in one action, and whatever it writes there while blocked is hidden as it arrives.

The block records exactly which items it hid, so lifting it restores those and nothing else:
not what moderators hid for their own reasons, nor an item a moderator decided to hide while the
block stood.

Locks: the block row (or, while creating one, the account row) first, then items' proposal rows
in ascending order, so a block, its lifting and the intake handler cannot deadlock.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from civic.clock import as_utc, utcnow
from civic.errors import Conflict, NotFound
from civic.events.envelope import emit
from civic.i18n import _
from civic.identity.authorization import Permission, Target, agency_lineage, authorize
from civic.identity.models import Account, AccountKind, Agency
from civic.leadership import actionlog
from civic.leadership.events import MODERATION_ACCOUNT_BLOCKED, MODERATION_ACCOUNT_UNBLOCKED, BlockChanged
from civic.leadership.models import AccountBlock, CaseState, ItemKind, ModerationCase
from civic.leadership.moderation import UPHOLDING, agency_subtree
from civic.leadership.reports import Item, load_item, moderate
from civic.leadership.schemas import BlockInput, ReasonInput
from civic.participation.models import Comment, CommentStatus, Consultation, Proposal, ProposalStatus


def _entry(item: Item) -> dict[str, int | str]:
    return {"kind": item.kind, "id": item.id}


def _changed(block: AccountBlock, count: int, reason: str) -> BlockChanged:
    assert block.id is not None
    return BlockChanged(
        block_id=block.id,
        account_id=block.account_id,
        agency_id=block.agency_id,
        hidden_count=count,
        reason=reason,
    )


def active_block(session: Session, account_id: int, *, lock: bool = False) -> AccountBlock | None:
    query = select(AccountBlock).where(
        AccountBlock.account_id == account_id, col(AccountBlock.lifted_at).is_(None)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.exec(query).first()


def _in_order(session: Session, entries: list[tuple[str, int]]) -> list[Item]:
    """The items, locked one proposal at a time in ascending proposal order."""
    unlocked = [load_item(session, kind, item_id) for kind, item_id in entries]
    unlocked.sort(key=lambda i: (i.proposal.id or 0, i.kind != ItemKind.PROPOSAL, i.id))
    return [load_item(session, i.kind, i.id, lock=True) for i in unlocked]


def block_account(session: Session, actor: Account | None, account_id: int, data: BlockInput) -> AccountBlock:
    if session.get(Agency, data.agency_id) is None:
        raise NotFound(_("There is no agency %(id)s.", id=data.agency_id))
    moderator = authorize(session, actor, Permission.MODERATE, Target(agency_id=data.agency_id))
    account = session.get(Account, account_id, with_for_update=True, populate_existing=True)
    if account is None:
        raise NotFound(_("There is no account %(id)s.", id=account_id))
    if account.kind == AccountKind.OFFICIAL:
        raise Conflict(_("Officials are not blocked: ask an administrator to revoke their grants."))
    if active_block(session, account_id) is not None:
        raise Conflict(_("This account is already blocked; lift that block first."), code="already_blocked")
    return do_block_account(session, moderator, account_id, data)


def do_block_account(session: Session, moderator: Account, account_id: int, data: BlockInput) -> AccountBlock:
    """Hide every published proposal and comment the account wrote in the agency's subtree."""
    assert moderator.id is not None
    consultations = select(Consultation.id).where(
        col(Consultation.agency_id).in_(agency_subtree(session, data.agency_id))
    )
    proposals = session.exec(
        select(Proposal.id).where(
            Proposal.author_id == account_id,
            Proposal.status == ProposalStatus.PUBLISHED,
            col(Proposal.consultation_id).in_(consultations),
        )
    ).all()
    comments = session.exec(
        select(Comment.id)
        .join(Proposal, col(Proposal.id) == col(Comment.proposal_id))
        .where(
            Comment.author_id == account_id,
            Comment.status == CommentStatus.PUBLISHED,
            col(Proposal.consultation_id).in_(consultations),
        )
    ).all()
    entries = [(ItemKind.PROPOSAL.value, i) for i in proposals] + [
        (ItemKind.COMMENT.value, i) for i in comments
    ]
    hidden: list[dict[str, int | str]] = []
    for item in _in_order(session, entries):
        if item.status == ProposalStatus.PUBLISHED:
            moderate(session, item, "hide", actor_id=moderator.id, reason=data.reason)
            hidden.append(_entry(item))
    block = AccountBlock(
        account_id=account_id,
        agency_id=data.agency_id,
        blocked_by_id=moderator.id,
        reason=data.reason,
        hidden=hidden,
        created_at=utcnow(),
    )
    session.add(block)
    session.flush()
    assert block.id is not None
    actionlog.record(
        session,
        actor_id=moderator.id,
        action="moderation.block",
        subject_kind="account",
        subject_id=account_id,
        agency_id=data.agency_id,
        reason=data.reason,
        public=False,
        detail={"block_id": block.id, "hidden": hidden},
    )
    emit(
        session, MODERATION_ACCOUNT_BLOCKED, _changed(block, len(hidden), data.reason), actor_id=moderator.id
    )
    return block


def _hidden_by_a_moderator_since(session: Session, item: Item, block: AccountBlock) -> bool:
    """A moderator decided to hide (or reject) the item while the block stood: lifting the block
    must not undo that decision."""
    decided = session.exec(
        select(ModerationCase.decided_at).where(
            ModerationCase.item_kind == item.kind,
            ModerationCase.item_id == item.id,
            ModerationCase.state == CaseState.DECIDED,
            col(ModerationCase.decision).in_([d.value for d in UPHOLDING]),
        )
    ).all()
    since = as_utc(block.created_at)
    return any(at is not None and as_utc(at) >= since for at in decided)


def unblock_account(
    session: Session, actor: Account | None, account_id: int, data: ReasonInput
) -> AccountBlock:
    moderator = authorize(session, actor, Permission.MODERATE)
    found = active_block(session, account_id)
    if found is None:
        raise NotFound(_("Account %(id)s is not blocked.", id=account_id))
    authorize(session, moderator, Permission.MODERATE, Target(agency_id=found.agency_id))
    block = active_block(session, account_id, lock=True)
    if block is None or block.id != found.id:
        raise Conflict(_("This block has just been lifted by someone else."), code="already_lifted")
    return do_unblock_account(session, moderator, block, data.reason)


def do_unblock_account(
    session: Session, moderator: Account, block: AccountBlock, reason: str
) -> AccountBlock:
    """Restore exactly the items the block hid that are still hidden, and lift the block."""
    assert moderator.id is not None
    restored: list[dict[str, int | str]] = []
    entries = [(str(e["kind"]), int(e["id"])) for e in block.hidden]
    for item in _in_order(session, entries):
        if item.is_hidden and not _hidden_by_a_moderator_since(session, item, block):
            moderate(session, item, "restore", actor_id=moderator.id, reason=reason)
            restored.append(_entry(item))
    block.lifted_at = utcnow()
    block.lifted_by_id = moderator.id
    block.lift_reason = reason
    session.add(block)
    session.flush()
    actionlog.record(
        session,
        actor_id=moderator.id,
        action="moderation.unblock",
        subject_kind="account",
        subject_id=block.account_id,
        agency_id=block.agency_id,
        reason=reason,
        public=False,
        detail={"block_id": block.id, "restored": restored},
    )
    emit(session, MODERATION_ACCOUNT_UNBLOCKED, _changed(block, len(restored), reason), actor_id=moderator.id)
    return block


def hide_if_blocked(session: Session, item_kind: str, item_id: int, agency_id: int, author_id: int) -> bool:
    """Hide new content of a blocked author within the block's scope (from `proposal.submitted`
    and `comment.posted`); True if it hid it. Idempotent: a replay finds the item hidden."""
    found = active_block(session, author_id)
    if found is None or found.agency_id not in agency_lineage(session, agency_id):
        return False
    block = active_block(session, author_id, lock=True)
    if block is None:
        return False
    item = load_item(session, item_kind, item_id, lock=True)
    if item.status != ProposalStatus.PUBLISHED:
        return False  # pending ones wait in the queue; deleted or hidden ones need nothing
    moderate(session, item, "hide", actor_id=None, reason=block.reason)
    block.hidden = [*block.hidden, _entry(item)]  # a new list: JSON columns track assignment only
    session.add(block)
    session.flush()
    return True
