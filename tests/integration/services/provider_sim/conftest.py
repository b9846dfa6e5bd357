"""The simulator and a callback receiver, both served over real HTTP by uvicorn in the test's loop."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
import time
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from paysaga.platform.runtime import Service
from paysaga.platform.settings import PlatformSettings
from paysaga.services.provider_sim.main import build_service
from paysaga.services.provider_sim.settings import ProviderSimSettings

SECRET = "test-provider-callback-secret-0123456789abcdef"


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the test runner keeps its own."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bound_socket() -> socket.socket:
    """A socket bound to a free local port and not listening yet: connections to it are refused."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only then (else Nagle adds ~40 ms a request).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()
    return f"http://{host}:{port}"


@dataclass
class RunningServer:
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 10)


async def serve(app: ASGIApp, sock: socket.socket) -> RunningServer:
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False)
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: server.started or task.done(), timeout=10)
    if task.done():
        task.result()
    return RunningServer(server, task)


async def eventually(check: Callable[[], Any], *, timeout: float = 5.0, interval: float = 0.01) -> Any:
    """Poll `check` (sync or async) until it returns something truthy, and return that;
    fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {result!r})")
        await asyncio.sleep(interval)


@dataclass(frozen=True)
class ReceivedCallback:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()

    def json(self) -> dict[str, Any]:
        import json

        return json.loads(self.body)


@dataclass
class Receiver:
    """A callback endpoint that records each POST and answers the status codes scripted for its
    paymentId, then 200 (scripts per paymentId: a late callback of another test cannot eat them)."""

    sock: socket.socket = field(default_factory=bound_socket)
    answers: dict[str, list[int]] = field(default_factory=dict)
    received: list[ReceivedCallback] = field(default_factory=list)
    running: RunningServer | None = None

    def script(self, payment_id: str, status_codes: list[int]) -> None:
        self.answers[payment_id] = list(status_codes)

    @property
    def url(self) -> str:
        return url_of(self.sock) + "/callbacks"

    def for_txn(self, provider_txn_id: str) -> list[ReceivedCallback]:
        return [r for r in self.received if r.json()["providerTxnId"] == provider_txn_id]

    async def _handle(self, request: Request) -> Response:
        callback = ReceivedCallback(dict(request.headers), await request.body(), time.monotonic())
        self.received.append(callback)
        script = self.answers.get(callback.json().get("paymentId", ""), [])
        return Response(status_code=script.pop(0) if script else 200)

    async def start(self) -> None:
        app = Starlette(routes=[Route("/callbacks", self._handle, methods=["POST"])])
        self.running = await serve(app, self.sock)

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.stop()
        self.sock.close()


@dataclass
class Sim:
    service: Service
    client: httpx.AsyncClient
    receiver: Receiver

    def payout_body(self, payment_id: str, account: str = "40817810000000000001", **changes: Any) -> dict:
        body = {
            "paymentId": payment_id,
            "amount": 12_345,
            "currency": "RUB",
            "recipient": {"accountNumber": account, "bankBic": "044525225", "name": "Анна Иванова"},
            "callbackUrl": self.receiver.url,
        }
        return {**body, **changes}

    async def set_rules(self, *rules: dict[str, Any]) -> None:
        response = await self.client.put("/_sim/rules", json={"rules": list(rules)})
        assert response.status_code == 200, response.text

    async def sim_payout(self, payment_id: str) -> dict[str, Any]:
        response = await self.client.get("/_sim/payouts", params={"paymentId": payment_id})
        assert response.status_code == 200
        [entry] = response.json()
        return entry

    async def attempts(self, provider_txn_id: str) -> list[dict[str, Any]]:
        response = await self.client.get("/_sim/callbacks", params={"providerTxnId": provider_txn_id})
        assert response.status_code == 200
        return response.json()

    async def status(self, provider_txn_id: str) -> str:
        response = await self.client.get(f"/v1/payouts/{provider_txn_id}")
        assert response.status_code == 200, response.text
        return response.json()["status"]


def settings(**overrides: Any) -> ProviderSimSettings:
    values: dict[str, Any] = {
        "callback_secret": SECRET,
        "default_delay_ms": 10,
        "late_success_delay_ms": 3000,
        "callback_retry_initial_seconds": 0.02,
        "callback_retry_multiplier": 2.0,
        "callback_retry_max_seconds": 0.1,
        "callback_max_attempts": 5,
        "callback_timeout_seconds": 2.0,
    }
    return ProviderSimSettings(**{**values, **overrides})


@contextlib.asynccontextmanager
async def running_sim(receiver: Receiver, **overrides: Any) -> AsyncIterator[Sim]:
    sock = bound_socket()
    service = build_service(settings(**overrides), PlatformSettings())
    server = await serve(service.app, sock)
    client = httpx.AsyncClient(base_url=url_of(sock), timeout=5.0)
    try:
        yield Sim(service, client, receiver)
    finally:
        await client.aclose()
        await server.stop()
        for close in service.on_close:
            await close()
        sock.close()


@pytest.fixture(scope="module")
async def shared_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@pytest.fixture(scope="module")
async def shared_sim(shared_receiver: Receiver) -> AsyncIterator[Sim]:
    async with running_sim(shared_receiver) as running:
        yield running


@pytest.fixture
async def receiver(shared_receiver: Receiver) -> Receiver:
    """The module's receiver; tests tell their callbacks apart by paymentId / providerTxnId."""
    return shared_receiver


@pytest.fixture
async def sim(shared_sim: Sim) -> Sim:
    """The module's simulator, with the default rules (tests use fresh paymentIds)."""
    response = await shared_sim.client.delete("/_sim/rules")
    assert response.status_code == 200
    return shared_sim
