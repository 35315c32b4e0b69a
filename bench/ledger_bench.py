"""Consent ledger benchmark (not a test): appends, `civic ledger verify`, proofs from stored nodes.

    python bench/ledger_bench.py                          # SQLite in a temp dir, 1,000,000 entries
    python bench/ledger_bench.py --entries 200000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

1. Appends: `ledger.append` one entry per transaction (as consents happen), and the batch API
   `ledger.append_many` (--batch entries per transaction), which also builds the big ledger.
2. Verify: `ledger_audit.audit` (what `civic ledger verify` runs) over every entry, against plain
   SHA-256 over the same bytes in the same run: one hashlib call per entry's canonical bytes and per
   record's salt || body (the bytes verify hashes besides the tree's own nodes), and the time to
   merely read the rows verify reads.
3. Proofs at full size: inclusion and consistency proofs (and a root) from stored nodes, median of 300.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlmodel import Session, col  # noqa: E402

from civic.db import Database  # noqa: E402
from civic.trust import ledger, merkle, treeheads  # noqa: E402
from civic.trust.ledger_audit import audit  # noqa: E402
from civic.trust.ledger_models import LedgerEntry, LedgerRecord  # noqa: E402
from civic.wiring import import_models  # noqa: E402

KINDS = sorted(ledger.KINDS)


def record(i: int) -> dict[str, object]:
    return {
        "citizen_id": 1000 + i % 5000,
        "agency_id": 1 + i % 12,
        "consent_id": i,
        "attributes": ["district", "age_band"],
        "purpose": "statistics",
        "retention_days": 365,
    }


def bench(url: str, entries: int, batch: int, singles: int) -> dict[str, object]:
    database = Database(url)
    import_models().metadata.create_all(database.engine)
    key = Ed25519PrivateKey.generate()
    out: dict[str, object] = {"entries": entries}

    started = time.perf_counter()
    for i in range(singles):
        with database.transaction() as s:
            ledger.append(s, KINDS[i % len(KINDS)], record(i))
    out["single_per_s"] = singles / (time.perf_counter() - started)

    started, done, heads = time.perf_counter(), singles, 0
    while done < entries:
        n = min(batch, entries - done)
        with database.transaction() as s:
            ledger.append_many(s, [(KINDS[(done + i) % len(KINDS)], record(done + i)) for i in range(n)])
            if (done + n) % (entries // 10 or 1) < batch:
                treeheads.sign_tree_head(s, key)
                heads += 1
        done += n
        print(f"\r  appended {done:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    out["batch_per_s"] = (entries - singles) / (time.perf_counter() - started)
    with database.transaction() as s:
        treeheads.sign_tree_head(s, key)

    engine = create_engine(url)
    with Session(engine) as s:
        started = time.perf_counter()
        rows = s.execute(
            select(
                col(LedgerEntry.index),
                LedgerEntry.kind,
                LedgerEntry.created_at,
                LedgerEntry.commitment,
                LedgerRecord.salt,
                LedgerRecord.body,
            ).outerjoin(LedgerRecord, col(LedgerRecord.entry_index) == col(LedgerEntry.index))
        ).all()
        out["read_s"] = time.perf_counter() - started
        blobs = [ledger.entry_bytes(i, k, t, c) for i, k, t, c, _, _ in rows]
        blobs += [salt + body for *_, salt, body in rows]
        del rows
        started = time.perf_counter()
        for blob in blobs:
            hashlib.sha256(blob).digest()
        out["sha256_s"] = time.perf_counter() - started
        out["bytes"] = sum(map(len, blobs))
        joined = b"".join(blobs)
        del blobs
        started = time.perf_counter()
        hashlib.sha256(joined).digest()
        out["sha256_stream_s"] = time.perf_counter() - started
        del joined

        started = time.perf_counter()
        report = audit(s, key.public_key())
        out["verify_s"] = time.perf_counter() - started
        assert report.ok, report.sorted_problems()[:3]
        out["heads"] = report.heads

        size = ledger.tree_size(s)
        rng = random.Random(7)
        timings: dict[str, list[float]] = {"inclusion": [], "consistency": [], "root": []}
        for _ in range(300):
            index, old = rng.randrange(size), rng.randrange(1, size)
            started = time.perf_counter()
            proof = ledger.inclusion_proof(s, index, size)
            timings["inclusion"].append(time.perf_counter() - started)
            started = time.perf_counter()
            consistency = ledger.consistency_proof(s, old, size)
            timings["consistency"].append(time.perf_counter() - started)
            started = time.perf_counter()
            root = ledger.root(s, size)
            timings["root"].append(time.perf_counter() - started)
        leaf = ledger.fetch_nodes(s, [(0, index)])[(0, index)]
        assert merkle.verify_inclusion(index, size, leaf, proof, root)
        assert merkle.verify_consistency(old, size, ledger.root(s, old), root, consistency)
        for name, values in timings.items():
            out[f"{name}_ms"] = statistics.median(values) * 1000
            out[f"{name}_p99_ms"] = sorted(values)[int(len(values) * 0.99)] * 1000
    engine.dispose()
    database.dispose()
    return out


def show(backend: str, r: dict[str, object]) -> None:
    print(f"\n## {backend}: {r['entries']:,} entries, {r['heads']} signed tree heads")
    print(f"appends: {r['single_per_s']:,.0f}/s one per transaction; {r['batch_per_s']:,.0f}/s batched")
    verify, sha = float(r["verify_s"]), float(r["sha256_s"])  # type: ignore[arg-type]
    print(
        f"verify: {verify:.2f} s; plain SHA-256 over the same {int(r['bytes']) / 1e6:,.0f} MB "  # type: ignore[call-overload]
        f"(one call per entry and per record) {sha:.2f} s -> ratio {verify / sha:.1f}; "
        f"as one stream {float(r['sha256_stream_s']):.2f} s; reading the rows alone {float(r['read_s']):.2f} s"  # type: ignore[arg-type]
    )
    for name in ("inclusion", "consistency", "root"):
        print(f"{name}: median {float(r[name + '_ms']):.3f} ms, p99 {float(r[name + '_p99_ms']):.3f} ms")  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--singles", type=int, default=2_000)
    parser.add_argument("--postgres", help="admin URL; an empty database is made and dropped")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            show("SQLite", bench(f"sqlite:///{tmp}/ledger.sqlite3", args.entries, args.batch, args.singles))
    if args.postgres:
        name = f"civic_ledger_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
            show("PostgreSQL", bench(url, args.entries, args.batch, args.singles))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
