"""Every state change of proposals, supports and comments: `check_*` validates and authorizes,
`do_*` writes and emits, in the caller's transaction. Nothing else writes these tables."""

# The module every caller uses; the work lives in proposals.py (proposals, supports) and
# comments.py, split by noun to keep each small.
from civic.participation.comments import (
    delete_comment,
    do_post_comment,
    edit_comment,
    post_comment,
)
from civic.participation.proposals import (
    MAX_COMMENT_DEPTH,
    check_submit_proposal,
    check_support,
    do_edit_proposal,
    do_submit_proposal,
    do_support_proposal,
    do_unsupport_proposal,
    edit_proposal,
    get_proposal,
    submit_proposal,
    support_proposal,
    unsupport_proposal,
    withdraw_proposal,
)

__all__ = [
    "MAX_COMMENT_DEPTH",
    "check_submit_proposal",
    "check_support",
    "delete_comment",
    "do_edit_proposal",
    "do_post_comment",
    "do_submit_proposal",
    "do_support_proposal",
    "do_unsupport_proposal",
    "edit_comment",
    "edit_proposal",
    "get_proposal",
    "post_comment",
    "submit_proposal",
    "support_proposal",
    "unsupport_proposal",
    "withdraw_proposal",
]
