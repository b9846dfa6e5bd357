"""The local supervisor restarts a crashed child with backoff and logs it; stops children in order."""

from __future__ import annotations

import asyncio
import sys

import pytest

from paysaga.devstack.supervisor import ProcessSpec, Supervisor

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
