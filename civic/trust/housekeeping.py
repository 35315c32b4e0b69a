"""The trust module's periodic work, run by `civic worker`: record consents whose period ended as
expired (the gate already refuses them at read time; this writes the ledger entry and tells the
citizen), and sign a new tree head when the ledger has grown, so heads are published at intervals
and not only on demand (receipts, `civic ledger head`).
"""

from __future__ import annotations

import logging
import threading

from civic.db import Database
from civic.settings import Settings
from civic.trust.consents import expire_due
from civic.trust.treeheads import load_signer, sign_tree_head

log = logging.getLogger(__name__)


def run_once(db: Database, settings: Settings) -> tuple[int, int]:
    """One round: (consents expired, size of the latest signed head)."""
    with db.transaction() as session:
        expired = expire_due(session)
    with db.transaction() as session:
        head = sign_tree_head(session, load_signer(settings))
    return expired, head.size


def start(db: Database, settings: Settings, stop: threading.Event) -> threading.Thread:
    """Run a round every `ledger_head_interval_seconds` until `stop` is set; a failed round is
    logged and retried at the next interval (several workers may run this: both steps lock)."""

    def loop() -> None:
        while not stop.is_set():
            try:
                run_once(db, settings)
            except Exception:  # a failed round must not stop the next one
                log.exception(
                    "trust housekeeping failed; retrying in %ss", settings.ledger_head_interval_seconds
                )
            stop.wait(settings.ledger_head_interval_seconds)

    thread = threading.Thread(target=loop, name="trust-housekeeping", daemon=True)
    thread.start()
    return thread
