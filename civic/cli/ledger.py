"""`civic ledger`: the consent ledger's tree heads, proofs and verification."""

from __future__ import annotations

import sys

import click

import civic.cli as cli
from civic.settings import ConfigurationError, Settings


@click.group(short_help="The consent ledger: tree heads, proofs, verification.")
def ledger() -> None:
    """The tamper-evident consent ledger (RFC 9162 Merkle tree, Ed25519-signed tree heads).

    Hashes are base64 (standard alphabet) in every JSON this group prints.
    """


def _ledger_signer(settings: Settings):  # type: ignore[no-untyped-def]
    from civic.trust.treeheads import load_signer

    try:
        return load_signer(settings)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


class _LedgerReader:
    """A session that only reads, without the write lock embedded SQLite's transactions take: a long
    verify must not hold up appends (every query is bounded by the size read first)."""

    def __init__(self, settings: Settings) -> None:
        from sqlalchemy import create_engine
        from sqlmodel import Session

        cli._database_ready(settings)
        self.engine = create_engine(settings.effective_database_url)
        self.session = Session(self.engine)

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self.session

    def __exit__(self, *exc_info: object) -> None:
        self.session.close()
        self.engine.dispose()


def _ledger_call(action):  # type: ignore[no-untyped-def]
    """Run a ledger read; bad numbers (InvalidInput) and a broken ledger become one clear line."""
    from civic.errors import InvalidInput
    from civic.trust.ledger import LedgerCorrupt

    try:
        return action()
    except InvalidInput as exc:
        raise click.ClickException(f"{exc}") from exc
    except LedgerCorrupt as exc:
        raise click.ClickException(str(exc)) from exc


def _echo_json(value: object) -> None:
    import json

    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


@ledger.command("verify", short_help="Recompute the ledger and check every signed tree head.")
def ledger_verify() -> None:
    """Recompute every leaf from the stored entries and records, every stored subtree hash and the
    root at every signed tree head, and check each head's signature with the ledger's key. Exits
    non-zero naming the first entry altered, removed or reordered."""
    from civic.trust.ledger import tree_size
    from civic.trust.ledger_audit import audit

    settings = cli._settings()
    public_key = _ledger_signer(settings).public_key()
    with _LedgerReader(settings) as session:
        size = tree_size(session)
        with click.progressbar(length=size, label="Verifying the ledger", file=sys.stderr) as bar:
            report = audit(session, public_key, progress=bar.update)
    problems = report.sorted_problems()
    if problems:
        for problem in problems:
            click.echo(f"  {problem.message}", err=True)
        raise click.ClickException(
            f"The ledger fails verification ({len(problems)} problems): {problems[0].message}. "
            "Restore the ledger tables from a backup taken before that and find out who wrote to them."
        )
    click.echo(
        f"OK: {report.size} entries recomputed, {report.heads} signed tree heads match "
        f"({report.erased} records erased on request, their entries intact)."
    )


@ledger.command("head", short_help="Print the current signed tree head (JSON).")
def ledger_head() -> None:
    """Print the latest signed tree head as JSON, signing a new one first if entries were appended
    since."""
    from civic.db import Database
    from civic.trust.treeheads import sign_tree_head

    settings = cli._settings()
    signer = _ledger_signer(settings)
    cli._database_ready(settings)
    database = Database(settings.effective_database_url, pool_size=1)
    try:
        with database.transaction() as session:
            head = sign_tree_head(session, signer)
    finally:
        database.dispose()
    _echo_json(head.to_json())


@ledger.command("proof", short_help="Print an inclusion proof for one entry (JSON).")
@click.option("--index", required=True, type=click.IntRange(min=0), help="The entry's 0-based index.")
@click.option("--size", type=click.IntRange(min=1), help="Tree size (default: the latest signed head's).")
def ledger_proof(index: int, size: int | None) -> None:
    """RFC 9162 inclusion proof of entry INDEX in the tree of the first SIZE entries; without --size,
    in the latest signed tree head's tree (printed alongside) when it holds the entry."""
    from civic.trust.ledger_views import inclusion_out

    settings = cli._settings()
    with _LedgerReader(settings) as session:
        out = _ledger_call(lambda: inclusion_out(session, index, size))
    _echo_json(out)


@ledger.command("consistency", short_help="Print a consistency proof between two tree sizes (JSON).")
@click.option("--old", "old", required=True, type=click.IntRange(min=1), help="The older tree size.")
@click.option("--new", "new", required=True, type=click.IntRange(min=1), help="The newer tree size.")
def ledger_consistency(old: int, new: int) -> None:
    """RFC 9162 consistency proof that the tree of NEW entries extends the tree of OLD entries."""
    from civic.trust.ledger_views import consistency_out

    settings = cli._settings()
    with _LedgerReader(settings) as session:
        out = _ledger_call(lambda: consistency_out(session, old, new))
    _echo_json(out)


@ledger.command("check-receipt", short_help="Check a consent receipt offline (no database).")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--public-key", default=None, help="Also require this ledger public key (base64, 32 bytes).")
def ledger_check_receipt(file: str, public_key: str | None) -> None:
    """Check FILE, a consent receipt (JSON): its record hashes to its ledger entry, the inclusion
    proof leads to the signed tree head's root, and the head's Ed25519 signature holds."""
    import base64
    import binascii
    import json
    from pathlib import Path

    from civic.trust.receipts_verify import check_receipt

    try:
        receipt = json.loads(Path(file).read_text(encoding="utf-8"))
    except OSError as exc:
        raise click.ClickException(
            f"Cannot read {file}: {exc.strerror}. Give the path of a receipt file."
        ) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{file} is not JSON ({exc}); give the receipt as downloaded.") from exc
    key = None
    if public_key is not None:
        try:
            key = base64.b64decode(public_key, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise click.ClickException(
                "--public-key is not base64; copy it from `civic ledger head`."
            ) from exc
    problems = check_receipt(receipt, key) if isinstance(receipt, dict) else ["the file is not a JSON object"]
    if problems:
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException(f"The receipt does not hold: {problems[0]}.")
    evidence = receipt["ledger"]
    head = evidence["tree_head"]
    click.echo(
        f"The receipt holds: ledger entry {evidence['index']} ({evidence['kind']}, {evidence['time']}) is in "
        f"the tree of {head['size']} entries signed at {head['time']} by key {head['public_key']}."
    )
