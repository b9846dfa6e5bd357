"""The periodic worker: runs at once, then every interval; a failing round does not end it."""

from __future__ import annotations

import asyncio

from paysaga.platform.periodic import Periodic


async def test_a_failing_round_is_retried_at_the_next_interval_and_stop_ends_the_worker() -> None:
    rounds: list[int] = []

    async def job() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise OSError("the database is away")

    worker = Periodic("test", job, every_seconds=0.01)
    task = asyncio.create_task(worker.run())
    for _ in range(200):
        if len(rounds) >= 3:
            break
        await asyncio.sleep(0.01)
    worker.stop()
    await asyncio.wait_for(task, 1)
    assert len(rounds) >= 3  # the first round failed, the worker went on
    done = len(rounds)
    await asyncio.sleep(0.05)
    assert len(rounds) == done  # stopped: no more rounds
