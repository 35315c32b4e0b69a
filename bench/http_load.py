"""One load-generator process for the HTTP write bench (run by `bench.http_bench`, not by hand).

    python -m bench.http_load SPEC.json OUT.json

SPEC: {"base_url", "items": [[cookie header, path], …], "headers": {…}, "concurrency",
"start_at" (epoch seconds), "warmup", "duration"}. `concurrency` httpx async tasks take the items
in order, one PUT each; a request counts when it completes inside the window [start_at + warmup,
start_at + warmup + duration]. Several of these processes run side by side with the same window
(one Python process tops out near the servers' own rate).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any


async def drive(spec: dict[str, Any]) -> dict[str, Any]:
    import httpx

    items = spec["items"]
    concurrency = spec["concurrency"]
    begin = spec["start_at"] + spec["warmup"]
    end = begin + spec["duration"]
    result: dict[str, Any] = {
        "ok": 0,
        "errors": 0,
        "window_ok": 0,
        "statuses": {},
        "lat": [],
        "exhausted": False,
    }
    position = iter(range(len(items)))
    # httpx's connection pool does work per request that grows with the requests in flight on it
    # (one client with 100 connections spent more CPU than the server did); many small clients
    # keep the generator's cost per request flat.
    per_client = spec.get("per_client", 8)
    sizes = [min(per_client, concurrency - i) for i in range(0, concurrency, per_client)]
    limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
    clients = [httpx.AsyncClient(base_url=spec["base_url"], limits=limits, timeout=60) for _ in sizes]
    try:
        await asyncio.sleep(max(0.0, spec["start_at"] - time.time()))

        async def worker(client: httpx.AsyncClient) -> None:
            while time.time() < end:
                i = next(position, None)
                if i is None:
                    result["exhausted"] = True
                    return
                cookie, path = items[i]
                started = time.time()
                try:
                    response = await client.put(path, headers={**spec["headers"], "Cookie": cookie})
                    status = response.status_code
                except httpx.HTTPError as exc:
                    status = exc.__class__.__name__
                done = time.time()
                key = str(status)
                result["statuses"][key] = result["statuses"].get(key, 0) + 1
                if status == 200:
                    result["ok"] += 1
                    if begin <= done <= end:
                        result["window_ok"] += 1
                        result["lat"].append(round((done - started) * 1000, 2))
                else:
                    result["errors"] += 1

        await asyncio.gather(*(worker(c) for c, n in zip(clients, sizes, strict=True) for _ in range(n)))
    finally:
        for client in clients:
            await client.aclose()
    return result


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(json.dumps(asyncio.run(drive(spec))))


if __name__ == "__main__":
    main()
