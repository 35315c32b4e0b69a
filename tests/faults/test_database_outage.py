"""PostgreSQL unreachable for about three seconds under a live `civic serve`: requests get a 503
with a retry hint in the project's error shape, nothing is half written, and the service
recovers by itself.

The web process reaches PostgreSQL through a TCP proxy in the test process; cutting it closes
the listener (new connections are refused) and aborts every open connection, as a database
restart or a network partition does. The test's own runtime and the worker use the database
directly, so the counts are read from the real state throughout.

Every action is a distinct citizen supporting the same proposal, so each has one visible
outcome: a support row, the proposal's count one higher and one `proposal.supported` event, all
in the action's transaction or none of them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from civic.http.guard import csrf_token_for
from civic.identity.sessions import start_session
from civic.participation.models import Proposal, Support
from civic.runtime import Runtime
from tests.conftest import PG_ADMIN_URL
from tests.factories import make_account
from tests.faults.conftest import FaultCluster, TcpProxy, count_events, running_stack
from tests.realtime.conftest import World, build_world
from tests.realtime.test_multiprocess import SECRET

pytestmark = pytest.mark.services

CITIZENS = 40
OUTAGE_SECONDS = 3.0


def build_with_citizens(runtime: Runtime) -> World:
    world = build_world(runtime)
    with runtime.db.transaction() as s:
        for n in range(CITIZENS):
            account = make_account(runtime, s)
            world.ids[f"voter{n}"] = account.id  # type: ignore[assignment]
            world.tokens[f"voter{n}"] = start_session(s, runtime.settings, account)
    runtime.relay.drain()
    return world


def request(cluster: FaultCluster, who: str, method: str, path: str) -> httpx.Response:
    csrf = uuid.uuid4().hex
    return httpx.request(
        method,
        f"{cluster.procs['a'].http}{path}",
        cookies={"civic_session": cluster.world.tokens[who], "civic_csrf": csrf},
        headers={"X-CSRF-Token": csrf_token_for(SECRET, csrf), "Accept": "application/json"},
        timeout=15,
    )


def counts(cluster: FaultCluster) -> tuple[int, int, int]:
    """(support rows, the proposal's support_count, proposal.supported events)."""
    with cluster.runtime.db.transaction() as s:
        rows = s.exec(select(func.count()).select_from(Support)).one()
        count = s.get(Proposal, cluster.world.proposal_id).support_count  # type: ignore[union-attr]
    return int(rows), count, count_events(cluster.runtime, "proposal.supported")


def test_database_cut_for_seconds_gives_503_with_retry_after_then_recovers(tmp_path: Path) -> None:
    started = time.monotonic()
    pg = make_url(PG_ADMIN_URL)
    proxy = TcpProxy(pg.host or "127.0.0.1", pg.port or 5432)
    proxy.restore()

    def through_proxy(url: str) -> str:
        return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)

    try:
        with running_stack(
            tmp_path, build_with_citizens, tag="dbcut", web_database_url=through_proxy
        ) as cluster:
            proposal = f"/api/proposals/{cluster.world.proposal_id}"
            outcomes: list[dict[str, Any]] = []
            outage: dict[str, float] = {}
            failures: list[BaseException] = []

            def keep_acting() -> None:
                try:
                    for n in range(CITIZENS):
                        who = f"voter{n}"
                        for method, path in (("PUT", f"{proposal}/support"), ("GET", proposal)):
                            at = time.monotonic()
                            response = request(cluster, who, method, path)
                            outcomes.append({"n": n, "method": method, "at": at, "response": response})
                        time.sleep(0.15)
                except BaseException as exc:
                    failures.append(exc)

            writer = threading.Thread(target=keep_acting)
            writer.start()
            deadline = time.monotonic() + 30
            while sum(1 for o in outcomes if o["method"] == "PUT") < 8 and time.monotonic() < deadline:
                time.sleep(0.05)
            outage["cut"] = time.monotonic()
            proxy.cut()
            page = httpx.get(f"{cluster.procs['a'].http}/proposals/{cluster.world.proposal_id}", timeout=15)
            health = httpx.get(f"{cluster.procs['a'].http}/healthz", timeout=15)
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage["cut"])))
            proxy.restore()
            outage["restored"] = time.monotonic()
            writer.join(60)
            assert failures == []
            assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0, "the HTML page too"
            assert "text/html" in page.headers["content-type"]

            statuses = Counter(o["response"].status_code for o in outcomes)
            assert set(statuses) <= {200, 503}, f"only success or 503: {statuses}"
            unavailable = [o for o in outcomes if o["response"].status_code == 503]
            assert unavailable, "requests during the cut were refused"
            for o in unavailable:
                response = o["response"]
                assert int(response.headers["Retry-After"]) > 0
                body = response.json()
                assert body["error"]["code"] == "service_unavailable", body
                assert body["error"]["message"] and body["error"]["fields"] == {}
                assert outage["cut"] - 0.5 < o["at"] < outage["restored"] + 0.5, "503 only around the cut"
            after = [o for o in outcomes if o["at"] > outage["restored"] + 1.0]
            assert after and all(o["response"].status_code == 200 for o in after), "recovered by itself"

            # No half-written state: each support either happened whole or not at all.
            supported = {
                o["n"] for o in outcomes if o["method"] == "PUT" and o["response"].status_code == 200
            }
            refused = {o["n"] for o in outcomes if o["method"] == "PUT" and o["response"].status_code == 503}
            cluster.settle(30)
            rows, count, events = counts(cluster)
            assert rows == count == events, f"rows {rows}, support_count {count}, events {events}"
            assert len(supported) <= rows <= len(supported) + len(refused)

            # The refused ones, retried as the Retry-After says: all succeed, nothing twice.
            for n in sorted(refused):
                assert request(cluster, f"voter{n}", "PUT", f"{proposal}/support").status_code == 200
            cluster.settle(30)
            rows_after, count_after, events_after = counts(cluster)
            assert rows_after == count_after == events_after == CITIZENS
            published = count_events(cluster.runtime, "proposal.supported", published=True)
            assert published == CITIZENS
            assert cluster.procs["a"].alive()
            print(
                f"\ndatabase outage ({OUTAGE_SECONDS:.0f} s): actions in {len(outcomes)} requests "
                f"({sum(1 for o in outcomes if o['method'] == 'PUT')} supports): {dict(statuses)}; "
                f"503s all with Retry-After and the error JSON; before retrying: {rows} supports = "
                f"support_count {count} = {events} events; {len(refused)} refused supports retried; events "
                f"out {published} published; {len(after)} requests after recovery all 200; "
                f"during the cut: proposal page {page.status_code}, /healthz {health.status_code}; "
                f"proxy connections accepted {proxy.accepted}; {time.monotonic() - started:.1f} s"
            )
    finally:
        proxy.close()
