"""One test per kind of tampering with the stored ledger: `civic ledger verify` (the real command, on
the real database) exits non-zero and names the first entry altered, removed or reordered."""

from __future__ import annotations

import base64

import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, update
from sqlmodel import col, select

from civic.runtime import Runtime
from civic.trust import ledger, merkle, treeheads
from civic.trust.ledger_models import LedgerEntry, LedgerNode, LedgerRecord, TreeHead

SIGNING_KEY = bytes(range(32, 64))
KEY = Ed25519PrivateKey.from_private_bytes(SIGNING_KEY)
SIZE = 16


@pytest.fixture
def log(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """16 entries, with tree heads signed at sizes 4, 12 and 16."""
    monkeypatch.setattr("civic.cli._database_ready", lambda settings: None)  # tables made without Alembic
    for count in (4, 8, 4):
        with runtime.db.transaction() as s:
            for i in range(count):
                ledger.append(s, "consent.granted", {"citizen_id": 10 + i, "purpose": "statistics", "n": i})
            treeheads.sign_tree_head(s, KEY)
    return runtime


def verify(runtime: Runtime) -> Result:
    from civic.cli import main

    settings = runtime.settings
    env = {
        "CIVIC_DATABASE_URL": settings.effective_database_url,
        "CIVIC_REDIS_URL": settings.redis_url,
        "CIVIC_REDIS_PREFIX": settings.redis_prefix,
        "CIVIC_SECRET_KEY": settings.secret_key,
        "CIVIC_VAR_DIR": str(settings.var_dir),
        "CIVIC_LEDGER_SIGNING_KEY": base64.urlsafe_b64encode(SIGNING_KEY).decode(),
        "CIVIC_VAULT_KEY": Fernet.generate_key().decode(),
    }
    return CliRunner().invoke(main, ["ledger", "verify"], env=env)


def refused(result: Result, *needles: str) -> str:
    assert result.exit_code == 1, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: The ledger fails verification"), result.output
    for needle in needles:
        assert needle in last, result.output
    return last


def test_an_untouched_ledger_verifies(log: Runtime):
    result = verify(log)
    assert result.exit_code == 0, result.output
    assert f"OK: {SIZE} entries recomputed, 3 signed tree heads match" in result.output
    assert "Verifying the ledger" in result.output


def test_an_entry_whose_leaf_hash_was_altered_is_named(log: Runtime):
    with log.db.transaction() as s:
        s.execute(update(LedgerEntry).where(col(LedgerEntry.index) == 5).values(leaf_hash=b"\x01" * 32))
    refused(verify(log), "entry 5 was altered")


def test_an_entry_whose_fields_were_altered_is_named(log: Runtime):
    with log.db.transaction() as s:
        s.execute(update(LedgerEntry).where(col(LedgerEntry.index) == 9).values(kind="consent.revoked"))
    refused(verify(log), "entry 9 was altered")


def test_an_altered_record_is_named(log: Runtime):
    with log.db.transaction() as s:
        body = s.get(LedgerRecord, 3).body  # type: ignore[union-attr]
        s.execute(
            update(LedgerRecord)
            .where(col(LedgerRecord.entry_index) == 3)
            .values(body=body.replace(b"statistics", b"research"))  # type: ignore[union-attr]
        )
    refused(verify(log), "record of entry 3 was altered")


def test_a_deleted_entry_is_named(log: Runtime):
    with log.db.transaction() as s:
        s.execute(delete(LedgerRecord).where(col(LedgerRecord.entry_index) == 6))
        s.execute(delete(LedgerEntry).where(col(LedgerEntry.index) == 6))
    refused(verify(log), "entries 6 to 6 are missing")


def test_deleted_last_entries_are_named_by_the_tree_head_that_covered_them(log: Runtime):
    with log.db.transaction() as s:
        s.execute(delete(LedgerRecord).where(col(LedgerRecord.entry_index) >= 14))
        s.execute(delete(LedgerEntry).where(col(LedgerEntry.index) >= 14))
    refused(verify(log), "covers entries 14 to 15, which are gone")


def test_two_reordered_entries_are_named(log: Runtime):
    with log.db.transaction() as s:
        for model, column in ((LedgerEntry, LedgerEntry.index), (LedgerRecord, LedgerRecord.entry_index)):
            s.execute(update(model).where(col(column) == 2).values({column: -1}))
            s.execute(update(model).where(col(column) == 9).values({column: 2}))
            s.execute(update(model).where(col(column) == -1).values({column: 9}))
    refused(verify(log), "entry 2 holds the entry that belongs at 9: entries were reordered")


def test_an_altered_tree_head_is_named(log: Runtime):
    with log.db.transaction() as s:
        s.execute(update(TreeHead).where(col(TreeHead.size) == 12).values(root=b"\x02" * 32))
    refused(verify(log), "tree head at size 12", "does not carry a valid signature")


def test_a_consistent_rewrite_is_caught_by_the_signed_heads(log: Runtime):
    """Whoever rewrites entry 7 and recomputes its leaf and every stored node still cannot re-sign."""
    with log.db.transaction() as s:
        entry = s.get(LedgerEntry, 7)
        assert entry is not None
        leaf = merkle.leaf_hash(ledger.entry_bytes(7, "consent.revoked", entry.created_at, entry.commitment))
        s.execute(
            update(LedgerEntry)
            .where(col(LedgerEntry.index) == 7)
            .values(kind="consent.revoked", leaf_hash=leaf)
        )
        leaves = [e.leaf_hash for e in s.exec(select(LedgerEntry).order_by(LedgerEntry.index))]
        for node in s.exec(select(LedgerNode)).all():
            s.execute(
                update(LedgerNode)
                .where(col(LedgerNode.level) == node.level, col(LedgerNode.index) == node.index)
                .values(hash=merkle.subtree(leaves, (node.level, node.index)))
            )
    refused(verify(log), "an entry from 4 to 11 was altered, removed or reordered")
