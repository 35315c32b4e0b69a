"""The suite behind `civic bench`: every benchmark in turn, one table, one JSON file.

A benchmark that fails is recorded with its error and the suite goes on (the table says which);
the exit status is then 1. Sizes: `quick` is for the test and a smoke check (well under a minute
of measuring); full mode is what BENCHMARKS.md reports and fits in about 10 minutes on the
2-core development machine.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import http_bench, memory_bench, suite_parts
from bench.common import PG_ADMIN_URL, REDIS_URL, Figure, Progress, check_services, redact

Benchmark = Callable[[bool, Callable[[str], None]], list[Figure]]

BENCHMARKS: dict[str, tuple[str, Benchmark]] = {
    "http": ("HTTP writes through the whole pipeline", lambda q, s: http_bench.run(q, s)),
    "fanout": ("WebSocket fan-out vs bare websockets", suite_parts.fanout),
    "ledger": ("Consent ledger append and verify vs SHA-256", suite_parts.ledger),
    "leaderboard": ("Leaderboard reads and engagement handler", suite_parts.leaderboard),
    "memory": ("Web process memory per idle WebSocket", lambda q, s: memory_bench.run(q, s)),
}


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kib = 0
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


def run_suite(quick: bool, only: list[str], progress: Progress | None = None) -> dict[str, Any]:
    progress = progress or Progress()
    check_services()
    started = time.monotonic()
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "machine": machine(),
        "services": {"postgresql": redact(PG_ADMIN_URL), "redis": redact(REDIS_URL)},
        "benchmarks": {},
        "figures": [],
    }
    names = only or list(BENCHMARKS)
    for number, name in enumerate(names, 1):
        title, fn = BENCHMARKS[name]
        progress.prefix = ""
        progress(f"({number}/{len(names)}) {name}: {title}")
        progress.prefix = f"{name}: "
        began = time.monotonic()
        entry: dict[str, Any] = {"title": title}
        try:
            figures = fn(quick, progress)
            entry["figures"] = [f.key for f in figures]
            result["figures"] += [f.as_json() | {"benchmark": name} for f in figures]
        except Exception as exc:
            entry["error"] = f"{exc.__class__.__name__}: {exc}"
            progress(f"FAILED: {entry['error']}")
            entry["traceback"] = traceback.format_exc()
        entry["elapsed_s"] = round(time.monotonic() - began, 1)
        result["benchmarks"][name] = entry
        progress(f"done in {entry['elapsed_s']} s")
    progress.prefix = ""
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    result["load_average_at_end"] = round(os.getloadavg()[0], 2)
    return result


def _num(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if 0 < abs(value) < 0.1:
        return f"{value:.2g}"
    return f"{value:.2f}"


def table(result: dict[str, Any]) -> str:
    """The figures as one Markdown table (the same text goes to the terminal and the docs)."""
    lines = [
        "| figure | value | baseline | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for f in result["figures"]:
        met = {True: "yes", False: "**no**", None: "—"}[f["met"]]
        lines.append(
            f"| {f['label']} | {_num(f['value'])} {f['unit']} | {_num(f['baseline'])} {f['unit']} ({f['baseline_label']}) "
            f"| {_num(f['ratio'])} | {f['target']} | {met} |"
        )
    for name, entry in result["benchmarks"].items():
        if "error" in entry:
            lines.append(f"| {name}: FAILED — {entry['error'][:200]} | | | | | **no** |")
    return "\n".join(lines)


def notes(result: dict[str, Any]) -> str:
    m = result["machine"]
    out = [
        f"{result['mode']} run, {result['started_at']}, {result['elapsed_s']:.0f} s; {m['cpus']} × {m['cpu_model'] or 'CPU'}, "
        f"{m['memory_gib']} GiB, Python {m['python']}; load average {m['load_average_at_start']} at the start, "
        f"{result['load_average_at_end']} at the end."
    ]
    out += [f"- {f['label']}: {f['note']}" for f in result["figures"] if f["note"]]
    return "\n".join(out)


def write(result: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)

    def clean(value: Any) -> Any:  # JSON has no NaN
        return None if isinstance(value, float) and math.isnan(value) else value

    result = {**result, "figures": [{k: clean(v) for k, v in f.items()} for f in result["figures"]]}
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
