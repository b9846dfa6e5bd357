"""Helpers of the Merchant Callback integration tests: a real webhook receiver, events on Kafka,
dispatchers run in-process, polling."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import orjson
import uvicorn
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paysaga.contracts.events import Event, PaymentCompleted, PaymentFailed, PaymentInitiated, Recipient
from paysaga.contracts.signatures import SIGNATURE_HEADER, verify_signature
from paysaga.platform.db import Database
from paysaga.services.merchant_callback.dispatcher import WebhookDispatcher, webhook_client
from paysaga.services.merchant_callback.domain import DELIVERY_ID_HEADER, RetryPolicy
from paysaga.services.merchant_callback.secretbox import SecretBox
from paysaga.services.merchant_callback.targets import WebhookTargets
from tests.support.infra import Infra
from tests.support.kafka import produce_raw, publisher_meta

# --- the merchant's side -------------------------------------------------------------------------


@dataclass
class Plan:
    """How one endpoint answers: the first `fail_first` requests fail (with `fail_status`, or by
    never answering when `hang`), the rest get a 200."""

    secret: str
    fail_first: int = 0
    fail_status: int = 500
    hang: bool = False
    seen: int = 0


@dataclass(frozen=True)
class Received:
    endpoint: str
    headers: dict[str, str]
    body: bytes
    verified: bool  # the Paysaga-Signature checks with the endpoint's secret
    answered: int | None  # None: left hanging

    @property
    def delivery_id(self) -> str:
        return self.headers[DELIVERY_ID_HEADER.lower()]

    @property
    def json(self) -> dict:
        return orjson.loads(self.body)


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # leave pytest's signal handlers alone


@dataclass
class Receiver:
    """A merchant's webhook endpoint(s) on a real HTTP server on a free local port."""

    base_url: str = ""
    plans: dict[str, Plan] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)

    def endpoint(self, secret: str, **plan: object) -> tuple[str, Plan]:
        name = uuid.uuid4().hex
        self.plans[name] = Plan(secret=secret, **plan)  # type: ignore[arg-type]
        return f"{self.base_url}/hooks/{name}", self.plans[name]

    def received(self, url: str) -> list[Received]:
        name = url.rsplit("/", 1)[1]
        return [r for r in self.requests if r.endpoint == name]

    async def _hook(self, request: Request) -> Response:
        name = request.path_params["name"]
        plan = self.plans[name]
        body = await request.body()
        verified = verify_signature(plan.secret, body, request.headers.get(SIGNATURE_HEADER, ""))
        failing = plan.seen < plan.fail_first
        plan.seen += 1
        answer = None if failing and plan.hang else (plan.fail_status if failing else 200)
        self.requests.append(Received(name, dict(request.headers), body, verified, answer))
        if answer is None:
            await asyncio.sleep(5)  # far longer than the dispatcher's request timeout
            return Response(status_code=200)
        return Response(b"not now" if failing else b"ok", status_code=answer)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[Receiver]:
        app = Starlette(routes=[Route("/hooks/{name}", self._hook, methods=["POST"])])
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, timeout_graceful_shutdown=1)
        server = _QuietServer(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:
                assert not task.done(), "the receiver did not start"
                await asyncio.sleep(0.01)
            yield self
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)
            sock.close()


# --- events --------------------------------------------------------------------------------------


def new_account() -> str:
    """A random 20-digit account (tests share one database: never reuse one)."""
    return "40702810" + "".join(random.choices("0123456789", k=12))


def new_secret() -> str:
    return f"whsec_{uuid.uuid4().hex}"


def initiated(account: str, amount: int = 125_000, *, payment_id: str | None = None) -> PaymentInitiated:
    return PaymentInitiated(
        payment_id=payment_id or str(uuid.uuid4()),
        wallet_id=str(uuid.uuid4()),
        user_id=str(uuid.uuid4()),
        amount=amount,
        currency="RUB",
        recipient=Recipient(account_number=account, bank_bic="044525225", name="Merchant LLC"),
        created_at=datetime.now(UTC),
    )


def completed(payment_id: str) -> PaymentCompleted:
    return PaymentCompleted(
        payment_id=payment_id, provider_txn_id=f"txn-{uuid.uuid4()}", completed_at=datetime.now(UTC)
    )


def failed(payment_id: str, error_code: str = "PROVIDER_DECLINED") -> PaymentFailed:
    return PaymentFailed(
        payment_id=payment_id, provider_txn_id=None, error_code=error_code, completed_at=datetime.now(UTC)
    )


def publish(infra: Infra, event: Event, *, event_id: str | None = None) -> str:
    """Produce the event as the platform does: JSON payload, CloudEvents headers, keyed by paymentId."""
    event_id = event_id or str(uuid.uuid4())
    meta = publisher_meta(event, event_id)
    produce_raw(infra.kafka, event.topic, key=event.key, value=event.to_json(), headers=meta.to_headers())
    return event_id


def publish_completed(infra: Infra, account: str, amount: int = 125_000) -> PaymentInitiated:
    """A payment to `account` that was initiated and then completed, as the two events on the topic."""
    payment = initiated(account, amount)
    publish(infra, payment)
    publish(infra, completed(payment.payment_id))
    return payment


# --- the service's side --------------------------------------------------------------------------

# The secrets key of the service under test: one for the session, as the tests share one database.
TEST_KEY = Fernet.generate_key().decode()
TEST_BOX = SecretBox(TEST_KEY)

FAST = RetryPolicy(initial_seconds=0.1, max_seconds=0.4, horizon_seconds=30)


@dataclass
class RunningDispatcher:
    dispatcher: WebhookDispatcher
    task: asyncio.Task[None]
    client: httpx.AsyncClient

    async def stop(self) -> None:
        self.dispatcher.stop()
        await asyncio.wait_for(self.task, 20)
        await self.client.aclose()


async def start_dispatcher(
    db: Database,
    policy: RetryPolicy = FAST,
    *,
    timeout: float = 2.0,
    lease: float = 5.0,
    allow_private: bool = True,
    box: SecretBox = TEST_BOX,
) -> RunningDispatcher:
    client = webhook_client(timeout)
    dispatcher = WebhookDispatcher(
        db,
        client,
        policy,
        targets=WebhookTargets(allow_private=allow_private),
        box=box,
        request_timeout_seconds=timeout,
        batch=16,
        lease_seconds=lease,
        poll_seconds=0.05,
    )
    return RunningDispatcher(dispatcher, asyncio.create_task(dispatcher.run()), client)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return await check()


async def delivery_rows(db: Database, payment_id: str) -> list[dict]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT delivery_id, subscription_id, status, attempts, body, next_attempt_at, give_up_at"
            " FROM deliveries WHERE payment_id = $1 ORDER BY subscription_id",
            payment_id,
        )
    return [dict(r) for r in rows]


async def statuses(db: Database, payment_id: str) -> list[str]:
    return [r["status"] for r in await delivery_rows(db, payment_id)]
