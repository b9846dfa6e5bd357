"""The claim loop of the leasing workers, with an in-memory queue of due work."""

from __future__ import annotations

import asyncio

from paysaga.platform.lease_loop import LeaseLoop


async def test_claims_up_to_capacity_and_refills_freed_slots_while_work_is_waiting() -> None:
    due = list(range(7))
    limits: list[int] = []
    done: list[int] = []

    async def claim(limit: int) -> list[int]:
        limits.append(limit)
        taken, due[:] = due[:limit], due[limit:]
        return taken

    async def handle(item: int) -> None:
        await asyncio.sleep(0.01)
        done.append(item)

    loop = LeaseLoop("test", claim, handle, capacity=3, poll_seconds=60, drain_seconds=1)
    task = asyncio.create_task(loop.run())
    for _ in range(200):
        if len(done) == 7:
            break
        await asyncio.sleep(0.01)
    loop.stop()
    await asyncio.wait_for(task, 2)
    assert sorted(done) == list(range(7))  # all done long before the 60 s poll: freed slots refilled
    assert max(limits) == 3  # never more than capacity in flight


async def test_an_idle_loop_claims_only_when_woken_and_stop_cancels_what_outlives_the_drain() -> None:
    claims = 0
    due: list[str] = []
    started = asyncio.Event()

    async def claim(limit: int) -> list[str]:
        nonlocal claims
        claims += 1
        taken, due[:] = due[:limit], due[limit:]
        return taken

    async def hang(item: str) -> None:
        started.set()
        await asyncio.sleep(60)

    loop = LeaseLoop("test", claim, hang, capacity=5, poll_seconds=60, drain_seconds=0.05)
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.05)
    assert claims == 1  # the first claim found nothing; no polling in between
    due.append("work")
    loop.wake()
    await asyncio.wait_for(started.wait(), 1)
    assert claims == 2 and loop.in_flight == 1
    loop.stop()
    await asyncio.wait_for(task, 1)  # the hung task was cancelled after the drain
    assert loop.in_flight == 0
