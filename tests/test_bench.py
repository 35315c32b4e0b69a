"""`civic bench --quick`: the benchmark suite runs end to end against the real services and
writes every figure, each with its baseline and ratio (issue #9's one command).

Quick sizes only prove the suite works; the numbers it prints are not a measurement (see
BENCHMARKS.md for a full run). Needs PostgreSQL and Redis: it runs in the CIVIC_TEST_BACKEND=postgres
pass, where a missing service skips it locally and fails it in CI (tests/conftest.py).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL, REDIS_URL, REPO_ROOT, with_code_under_test

pytestmark = pytest.mark.services

BENCHMARKS = {"http", "fanout", "ledger", "leaderboard", "memory"}
FIGURES = {
    "http.writes_per_s",
    "http.p50_ms",
    "http.p99_ms",
    "http.ws_delivered",
    "http.handlers_done",
    "fanout.cpu_us_per_frame",
    "fanout.p99_ms",
    "fanout.delivered",
    "ledger.append_per_s",
    "ledger.verify_s",
    "leaderboard.top100_ms",
    "leaderboard.rank_ms",
    "leaderboard.sql_top50_ms",
    "engagement.handler_per_s",
    "memory.kib_per_conn",
}


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def test_quick_bench_writes_every_figure_with_its_baseline_and_ratio(tmp_path: Path) -> None:
    out = tmp_path / "tmp.json"
    env = with_code_under_test(
        {**os.environ, "CIVIC_BENCH_PG_URL": PG_ADMIN_URL, "CIVIC_BENCH_REDIS_URL": REDIS_URL}
    )
    done = subprocess.run(
        [sys.executable, "-m", "civic.cli", "bench", "--quick", "--out", str(out)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"civic bench failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    result = json.loads(out.read_text())

    assert result["mode"] == "quick"
    assert set(result["benchmarks"]) == BENCHMARKS
    assert not [name for name, entry in result["benchmarks"].items() if "error" in entry]
    figures = {f["key"]: f for f in result["figures"]}
    assert set(figures) == FIGURES
    for key, figure in figures.items():
        for field in ("value", "baseline", "ratio"):
            assert _number(figure[field]), f"{key}: {field} is {figure[field]!r}"
        assert figure["baseline"] > 0, key
        assert math.isclose(figure["ratio"], figure["value"] / figure["baseline"]), key
        assert figure["target"] and figure["met"] in (True, False, None), key
    # What the suite confirms besides speed: nothing lost on the way to browsers and handlers.
    for key in ("http.ws_delivered", "http.handlers_done", "fanout.delivered"):
        assert figures[key]["met"] is True, figures[key]
    assert figures["http.writes_per_s"]["value"] > 0
    # The table goes to the terminal too, one row per figure.
    assert done.stdout.count("\n| ") >= len(FIGURES)
