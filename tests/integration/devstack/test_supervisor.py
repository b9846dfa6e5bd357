"""The local supervisor restarts a crashed child with backoff and logs it; ends and restarts a child
that does not answer its health probe; leaves a not-ready one running; stops children in order."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from paysaga.devstack.supervisor import Health, Probe, ProcessSpec, Supervisor

pytestmark = pytest.mark.integration


async def test_a_crashing_child_is_restarted_and_the_restart_is_logged(tmp_path) -> None:
    lines: list[str] = []
    sup = Supervisor(out=lines.append)
    crash = "import sys; print('up', flush=True); sys.exit(3)"
    await sup.start(ProcessSpec("crashy", [sys.executable, "-c", crash]))
    for _ in range(60):
        if sum("CRASHED" in line for line in lines) >= 2:
            break
        await asyncio.sleep(0.1)
    await sup.stop_all()
    crashes = [line for line in lines if "CRASHED" in line]
    assert len(crashes) >= 2
    assert "exit code 3; restart #1 in 1 s" in crashes[0]
    assert "restart #2 in 2 s" in crashes[1]  # exponential backoff
    assert sum("crashy | up" in line for line in lines) >= 2


async def test_stop_all_stops_children_in_reverse_start_order() -> None:
    lines: list[str] = []
    sup = Supervisor(out=lines.append)
    sleeper = "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); time.sleep(60)"
    for name in ("first", "second", "third"):
        await sup.start(ProcessSpec(name, [sys.executable, "-c", sleeper]))
    await sup.stop_all()
    stopping = [line.split("|")[0].strip() for line in lines if line.endswith("stopping")]
    assert stopping == ["third", "second", "first"]
    assert not any("CRASHED" in line for line in lines)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_probe(port: int) -> Probe:
    async def probe() -> str | None:
        async with httpx.AsyncClient(timeout=1) as client:
            (await client.get(f"http://127.0.0.1:{port}/")).raise_for_status()
        return None

    return probe


def http_server(port: int, ignore_term: bool = False) -> list[str]:
    """A child that serves HTTP on `port` (and, with ignore_term, shrugs SIGTERM off)."""
    code = (
        "import signal, http.server, functools;"
        + ("signal.signal(signal.SIGTERM, signal.SIG_IGN);" if ignore_term else "")
        + "h = functools.partial(http.server.SimpleHTTPRequestHandler, directory='/');"
        + f"http.server.ThreadingHTTPServer(('127.0.0.1', {port}), h).serve_forever()"
    )
    return [sys.executable, "-c", code]


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"{what}: not seen after {timeout} s"
        await asyncio.sleep(0.05)


async def test_a_child_that_never_answers_its_probe_is_ended_and_restarted(tmp_path: Path) -> None:
    lines: list[str] = []
    sup = Supervisor(out=lines.append, status_file=tmp_path / "status.json")
    deaf = [sys.executable, "-c", "import time; time.sleep(60)"]  # runs, but never serves the probed port
    health = Health(http_probe(free_port()), start_timeout=1.0, probe_timeout=0.5)
    await sup.start(ProcessSpec("deaf", deaf, health=health, stop_timeout=2))
    first = sup.pid("deaf")
    assert first is not None
    try:
        await wait_until(lambda: sup.restarts("deaf") >= 1, "a restart")
        assert any("STUCK: no answer to its health probe 1 s after start; ending it" in line for line in lines), lines
        assert any("ended by the supervisor (no answer to its health probe" in line for line in lines), lines
        await wait_until(lambda: sup.pid("deaf") not in (None, first), "a new process")
    finally:
        await sup.stop_all()
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)


@pytest.mark.parametrize("ignore_term", [False, True], ids=["stops-on-sigterm", "needs-sigkill"])
async def test_a_stopped_child_is_detected_ended_and_restarted(tmp_path: Path, ignore_term: bool) -> None:
    lines: list[str] = []
    status_file = tmp_path / "status.json"
    sup = Supervisor(out=lines.append, status_file=status_file)
    port = free_port()
    health = Health(http_probe(port), start_timeout=10, interval=0.2, probe_timeout=0.5, failures=3)
    await sup.start(ProcessSpec("server", http_server(port, ignore_term), health=health, stop_timeout=1))
    try:
        await sup.wait_alive("server", 10)
        await wait_until(lambda: json.loads(status_file.read_text())["server"]["state"] == "healthy", "healthy")
        hung = sup.pid("server")
        assert hung is not None
        os.kill(hung, signal.SIGSTOP)
        await wait_until(lambda: sup.restarts("server") == 1, "a restart")
        await sup.wait_alive("server", 10)
        assert sup.pid("server") != hung
        assert [line.split("| ", 1)[1] for line in lines if "health probe failed" in line][:3] == [
            f"health probe failed ({n}/3): no answer within 0.5 s" for n in (1, 2, 3)
        ]
        assert any("STUCK: 3 health probes failed in a row; ending it" in line for line in lines)
        if ignore_term:
            assert any("did not stop within 1 s: killed" in line for line in lines)
        else:
            assert any("with exit code -15; restart #1" in line for line in lines), lines
        await wait_until(lambda: json.loads(status_file.read_text())["server"]["restarts"] == 1, "status written")
    finally:
        await sup.stop_all()
    assert not status_file.exists()


async def test_a_probe_that_fails_while_the_supervisor_itself_runs_late_is_not_counted(tmp_path: Path) -> None:
    """A host short of CPU makes every probe fail at once: the supervisor, whose own loop then wakes up
    late, counts none of those failures; a child that really stopped is still ended once it runs on time."""
    lines: list[str] = []
    sup = Supervisor(out=lines.append)
    port = free_port()
    health = Health(http_probe(port), start_timeout=10, interval=0.2, probe_timeout=0.5, failures=3)
    await sup.start(ProcessSpec("server", http_server(port, False), health=health, stop_timeout=1))
    try:
        await sup.wait_alive("server", 10)
        hung = sup.pid("server")
        assert hung is not None
        os.kill(hung, signal.SIGSTOP)
        await asyncio.sleep(0.1)
        time.sleep(1.5)  # the supervisor's loop blocked, as by a starved host
        await wait_until(lambda: sup.restarts("server") == 1, "a restart once the supervisor runs on time")
        assert any("while the supervisor ran" in line and "not counted" in line for line in lines), lines
        assert any("health probe failed (3/3)" in line for line in lines)
    finally:
        await sup.stop_all()


async def test_a_child_that_answers_not_ready_is_left_running_and_its_readiness_logged(tmp_path: Path) -> None:
    lines: list[str] = []
    sup = Supervisor(out=lines.append, status_file=tmp_path / "status.json")
    waiting_for: list[str | None] = ["failing: kafka"]

    async def probe() -> str | None:
        return waiting_for[0]

    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    await sup.start(ProcessSpec("svc", sleeper, health=Health(probe, interval=0.1)))
    try:
        await sup.wait_alive("svc", 10)
        await asyncio.sleep(0.5)  # several probes, all "not ready"
        assert json.loads((tmp_path / "status.json").read_text())["svc"] == {
            "pid": sup.pid("svc"),
            "state": "not-ready",
            "detail": "failing: kafka",
            "restarts": 0,
        }
        waiting_for[0] = None
        await wait_until(lambda: any(line.endswith("svc | ready") for line in lines), "ready logged")
    finally:
        await sup.stop_all()
    assert sup.restarts("svc") == 0
    assert any("answering after" in line and "not ready: failing: kafka" in line for line in lines), lines
    assert not any("STUCK" in line for line in lines)
