"""Running one service process: HTTP server, consumers and outbox relay in one event loop,
with a graceful shutdown on SIGTERM/SIGINT (the request or record in hand is finished)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
import structlog
import uvicorn
from fastapi import FastAPI

from paysaga.platform import gc_tuning
from paysaga.platform.backoff import backoff_delay
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
    db_connect_timeout_seconds: float = 60.0
    # One of several instances on this host: the shared `port` with SO_REUSEPORT, and this one of its own.
    instance_port: int | None = None


def listening_sockets(host: str, port: int, instance_port: int) -> list[socket.socket]:
    """An instance's sockets: the service's port, shared with the other instances (SO_REUSEPORT: the
    kernel hands each new connection to one of them), and its own port (probes, /metrics)."""
    shared = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    own = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        shared.bind((host, port))
        own.bind((host, instance_port))
    except OSError:
        shared.close()
        own.close()
        raise
    return [shared, own]


# A server not (yet) there or not (yet) accepting connections: refused, reset, timed out, "the
# database system is starting up" / "is shutting down" / "in recovery mode" (57P03), too many
# clients (53300), an admin shutdown (57P01). Anything else (bad password, no such database) is
# a configuration error: retrying would only hide it.
_NOT_YET = (
    OSError,
    TimeoutError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
)


async def connect_with_retry(
    db: Database,
    *,
    timeout: float = 60.0,
    initial: float = 0.1,
    maximum: float = 5.0,
    stop: asyncio.Event | None = None,
) -> bool:
    """Connect `db`, waiting out a server that is down or still recovering, with backoff and a log
    line per try, for up to `timeout` seconds (then the last error is raised). False if `stop` was
    set meanwhile (nothing connected)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            await db.connect()
            if attempt > 1:
                log.info("db.connected", attempts=attempt)
            return True
        except _NOT_YET as exc:
            delay = backoff_delay(attempt, initial=initial, maximum=maximum)
            remaining = deadline - loop.time()
            if remaining <= 0:
                log.error("db.connect_gave_up", attempts=attempt, error=repr(exc))
                raise
            delay = min(delay, remaining)
            log.warning("db.connect_retry", attempt=attempt, retry_in=round(delay, 3), error=repr(exc))
        if stop is None:
            await asyncio.sleep(delay)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                return False


async def run_service(svc: Service) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    for db in svc.databases:
        if not await connect_with_retry(db, timeout=svc.db_connect_timeout_seconds, stop=stop):
            log.info("service.stopped_before_start")
            for connected in svc.databases:
                await connected.close()
            return
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
    sockets = listening_sockets(svc.host, svc.port, svc.instance_port) if svc.instance_port else None
    tasks: dict[asyncio.Task[Any], str] = {asyncio.create_task(server.serve(sockets=sockets)): "http"}
    for consumer in svc.consumers:
        tasks[asyncio.create_task(consumer.run())] = f"consumer:{consumer.group_id}"
    if svc.relay is not None:
        tasks[asyncio.create_task(svc.relay.run())] = "relay"
    for name, worker in svc.workers.items():
        tasks[asyncio.create_task(worker.run())] = name
    stop_waiter = asyncio.create_task(stop.wait())
    frozen = gc_tuning.settle()  # what start-up made lives until exit: later collections skip it
    log.info(
        "service.started",
        url=f"http://{svc.host}:{svc.port}",
        instance_url=f"http://{svc.host}:{svc.instance_port}" if svc.instance_port else None,
        components=sorted(tasks.values()),
        frozen_objects=frozen,
    )

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
