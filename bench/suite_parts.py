"""The suite's other benchmarks, each a thin wrapper over a standalone bench module that returns
figures: WebSocket fan-out (`realtime_bench`), consent ledger (`ledger_bench`), leaderboards and
engagement handlers (`engagement_bench`). Sizes are smaller than the standalone defaults, so the
whole suite fits in minutes; the standalone commands in BENCHMARKS.md measure the issues' sizes.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.common import PG_ADMIN_URL, REDIS_URL, Figure, Step, redis_prefix, scratch_database


def fanout(quick: bool, step: Step) -> list[Figure]:
    """civic's hub in production mode (PostgreSQL + Redis Streams) against a bare `websockets`
    server broadcasting the same frames, one server process pinned to CPU 0, clients on CPU 1."""
    from bench import realtime_bench

    args = argparse.Namespace(
        clients=100 if quick else 500,
        procs=1 if quick else 2,
        events=100 if quick else 200,  # CPU is read in clock ticks (10 ms): enough frames to see it
        rate=10.0 if quick else 20.0,
        seconds=1.0 if quick else 4.0,
        server_cpu=0,
        client_cpu=1,
    )
    results = {}
    for mode in ("baseline", "redis"):
        step(
            f"{mode}: {args.clients} clients, burst of {args.events}, then {args.rate:g} events/s for {args.seconds:g} s"
        )
        results[mode] = realtime_bench.run_mode(mode, args)
    civic, base = results["redis"], results["baseline"]
    errors = civic["burst_errors"] + civic["open_errors"]
    delivered = civic["burst_frames"] + civic["open_frames"]
    expected = civic["burst_expected"] + civic["open_expected"]
    note = f"{args.clients} clients, {args.rate:g} events/s open loop"
    return [
        Figure("fanout.cpu_us_per_frame", "WS fan-out: server CPU per frame (burst)", "µs", civic["cpu_us_per_frame"],
               base["cpu_us_per_frame"], "bare websockets broadcast()", "ratio ≤ 1.5",
               civic["cpu_us_per_frame"] <= 1.5 * base["cpu_us_per_frame"], note),
        Figure("fanout.p99_ms", "WS fan-out: open-loop latency p99", "ms", civic["p99"], base["p99"],
               "bare websockets broadcast()", "value < 250 ms", civic["p99"] < 250, note),
        Figure("fanout.delivered", "WS fan-out: frames delivered in order", "frames", delivered - errors, expected,
               "frames expected", "ratio = 1", errors == 0 and delivered == expected, f"{errors} lost/repeated/out of order"),
    ]  # fmt: skip


def ledger(quick: bool, step: Step) -> list[Figure]:
    """Consent ledger on PostgreSQL: batched appends and `civic ledger verify` against plain
    SHA-256 over the same bytes (one hashlib call per entry's bytes and per record's salt‖body)."""
    from bench import ledger_bench

    entries, singles = (3_000, 50) if quick else (100_000, 500)
    step(f"{entries:,} entries on PostgreSQL ({singles} one per transaction, the rest 5,000 per transaction)")
    with scratch_database(PG_ADMIN_URL, tables=False) as url:
        r = ledger_bench.bench(url, entries, 5_000, singles)
    sha_per_entry = float(r["sha256_s"]) / entries  # type: ignore[arg-type]
    append = float(r["batch_per_s"])  # type: ignore[arg-type]
    return [
        Figure("ledger.append_per_s", "Ledger: append_many (PostgreSQL)", "entries/s", append, 1 / sha_per_entry,
               "plain SHA-256 of the same bytes, entries/s", "value ≥ 10,000/s", append >= 10_000,
               f"{entries:,} entries; one per transaction: {float(r['single_per_s']):,.0f}/s"),  # type: ignore[arg-type]
        Figure("ledger.verify_s", "Ledger: `civic ledger verify` (PostgreSQL)", "s", float(r["verify_s"]),  # type: ignore[arg-type]
               float(r["sha256_s"]), "plain SHA-256 of the same bytes, s", note=  # type: ignore[arg-type]
               f"reading the rows alone {float(r['read_s']):.2f} s; inclusion proof median {float(r['inclusion_ms']):.2f} ms"),  # type: ignore[arg-type]
    ]  # fmt: skip


def leaderboard(quick: bool, step: Step) -> list[Figure]:
    """Leaderboard reads: civic's Redis boards at the issue's size against the bare Redis commands;
    SQL boards (embedded mode) against Redis ones; the engagement handler against one INSERT+commit."""
    from bench import engagement_bench

    members, rows, events = (10_000, 2_000, 40) if quick else (1_000_000, 100_000, 300)
    figures = []
    with redis_prefix(REDIS_URL) as prefix:
        step(f"one Redis board of {members:,} citizens: top-100 and own rank, median of 200")
        m = engagement_bench.bench_million(REDIS_URL, members, prefix)
    figures += [
        Figure("leaderboard.top100_ms", f"Leaderboard: Redis top-100 of {members:,}", "ms", m["top_ms"], m["bare_top_ms"],
               "bare ZREVRANGE WITHSCORES", "value < 5 ms", m["top_ms"] < 5),
        Figure("leaderboard.rank_ms", f"Leaderboard: Redis own rank of {members:,}", "ms", m["rank_ms"], m["bare_rank_ms"],
               "bare ZREVRANK", "value < 5 ms", m["rank_ms"] < 5, "civic: ZSCORE + ZCOUNT (ties share a rank)"),
    ]  # fmt: skip
    with scratch_database(PG_ADMIN_URL, tables=False) as url, tempfile.TemporaryDirectory() as tmp:
        runtime = engagement_bench._runtime(url, Path(tmp))
        try:
            step(f"engagement handler on PostgreSQL: ~{events} events of real actions, one transaction each")
            rates = engagement_bench.bench_handler(runtime, events)
            with redis_prefix(REDIS_URL) as board_prefix:
                step(f"SQL vs Redis boards from {rows:,} ledger rows (PostgreSQL)")
                boards = engagement_bench.bench_boards(runtime, rows, REDIS_URL, board_prefix)
        finally:
            runtime.close()
    figures += [
        Figure("leaderboard.sql_top50_ms", "Leaderboard: SQL top-50 (embedded reads, PostgreSQL)", "ms",
               boards["SQL"][0], boards["Redis"][0], "Redis top-50 (production reads)",
               note=f"{rows:,} ledger rows; SQL rank {boards['SQL'][1]:.2f} ms vs Redis {boards['Redis'][1]:.2f} ms"),
        Figure("engagement.handler_per_s", "Engagement handler (PostgreSQL, 1 tx/event)", "events/s", rates["full"],
               rates["baseline"], "1 INSERT + commit per event", "value ≥ 10,000/s", rates["full"] >= 10_000,
               f"points only: {rates['points']:,.0f}/s"),
    ]  # fmt: skip
    return figures
