"""Running one service process: HTTP server, consumers and outbox relay in one event loop,
with a graceful shutdown on SIGTERM/SIGINT (the request or record in hand is finished)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
import uvicorn
from fastapi import FastAPI

from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.relay import OutboxRelay

log = structlog.get_logger("paysaga.runtime")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the runtime owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Worker(Protocol):
    """A background component of a service: runs until `stop()`, finishing the work in hand."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Service:
    name: str
    app: FastAPI
    host: str
    port: int
    databases: list[Database] = field(default_factory=list)
    producer: KafkaProducer | None = None
    relay: OutboxRelay | None = None
    consumers: list[EventConsumer] = field(default_factory=list)
    workers: dict[str, Worker] = field(default_factory=dict)
    on_close: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    shutdown_grace_seconds: float = 10.0


async def _connect_with_retry(db: Database, attempts: int = 30) -> None:
    for attempt in range(1, attempts + 1):
        try:
            await db.connect()
            return
        except (OSError, ConnectionError) as exc:
            if attempt == attempts:
                raise
            log.warning("db.connect_retry", attempt=attempt, error=repr(exc))
            await asyncio.sleep(1.0)


async def run_service(svc: Service) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    for db in svc.databases:
        await _connect_with_retry(db)
    config = uvicorn.Config(
        svc.app,
        host=svc.host,
        port=svc.port,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(svc.shutdown_grace_seconds),
    )
    server = _Server(config)
    tasks: dict[asyncio.Task[Any], str] = {asyncio.create_task(server.serve()): "http"}
    for consumer in svc.consumers:
        tasks[asyncio.create_task(consumer.run())] = f"consumer:{consumer.group_id}"
    if svc.relay is not None:
        tasks[asyncio.create_task(svc.relay.run())] = "relay"
    for name, worker in svc.workers.items():
        tasks[asyncio.create_task(worker.run())] = name
    stop_waiter = asyncio.create_task(stop.wait())
    log.info("service.started", url=f"http://{svc.host}:{svc.port}", components=sorted(tasks.values()))

    done, _ = await asyncio.wait([*tasks, stop_waiter], return_when=asyncio.FIRST_COMPLETED)
    failed = [t for t in done if t is not stop_waiter and (t.cancelled() or t.exception() is not None)]
    for t in done:
        if t is not stop_waiter:
            exc = None if t.cancelled() else t.exception()
            log.error("service.component_ended", component=tasks[t], error=repr(exc))
    log.info("service.stopping")
    stop_waiter.cancel()

    await _shutdown(svc, server, tasks)
    log.info("service.stopped")
    if failed:
        raise SystemExit(1)


async def _shutdown(svc: Service, server: uvicorn.Server, tasks: dict[asyncio.Task[Any], str]) -> None:
    server.should_exit = True
    for consumer in svc.consumers:
        consumer.stop()
    if svc.relay is not None:
        svc.relay.stop()
    for worker in svc.workers.values():
        worker.stop()
    pending = [t for t in tasks if not t.done()]
    if pending:
        _, still = await asyncio.wait(pending, timeout=svc.shutdown_grace_seconds)
        for t in still:
            log.warning("service.component_killed", component=tasks[t])
            t.cancel()
    for close in svc.on_close:
        with contextlib.suppress(Exception):
            await close()
    if svc.producer is not None:
        await svc.producer.close()
    for db in svc.databases:
        await db.close()


def serve_forever(build: Callable[[], Service]) -> None:
    """Entry point of a service process: build it, run it, exit non-zero if a component died."""
    import uvloop

    uvloop.run(run_service(build()))
