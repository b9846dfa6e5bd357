"""Anti-Fraud over gRPC (contract: paysaga/contracts/protos/antifraud.proto)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from paysaga.contracts.protos import antifraud_pb2, antifraud_pb2_grpc
from paysaga.platform.grpc_metrics import observe_client_call
from paysaga.platform.grpc_tracing import client_interceptors
from paysaga.platform.identity import ServiceIdentity

if TYPE_CHECKING:
    from paysaga.services.payment.domain import Payment


CHECK_METHOD = "/" + antifraud_pb2.DESCRIPTOR.services_by_name["AntiFraud"].full_name + "/Check"
ANTIFRAUD = "antifraud"  # the audience of Payment's identity token


class FraudUnavailable(Exception):
    """No decision (Anti-Fraud down, slow or confused): the payment must wait, never pass unchecked."""


@dataclass(frozen=True, slots=True)
class FraudVerdict:
    allowed: bool
    reason: str
    score: float


class FraudCheck(Protocol):
    """What the worker needs of Anti-Fraud (tests pass a fake)."""

    async def check(self, payment: Payment) -> FraudVerdict: ...


class FraudClient:
    """Anti-Fraud's `Check`, called as Payment (`identity`: the token goes in the `authorization`
    metadata, addressed to `antifraud`)."""

    def __init__(self, target: str, *, deadline_seconds: float, identity: ServiceIdentity) -> None:
        self._target = target
        self._deadline = deadline_seconds
        self._identity = identity
        self._channel: grpc.aio.Channel | None = None
        self._stub: antifraud_pb2_grpc.AntiFraudStub | None = None

    def _connected(self) -> antifraud_pb2_grpc.AntiFraudStub:
        # A grpc.aio channel belongs to the event loop it is made in: make it on first use.
        if self._stub is None:
            self._channel = grpc.aio.insecure_channel(self._target, interceptors=client_interceptors(self._target))
            self._stub = antifraud_pb2_grpc.AntiFraudStub(self._channel)
        return self._stub

    async def check(self, payment: Payment) -> FraudVerdict:
        created_at = Timestamp()
        created_at.FromDatetime(payment.created_at)
        request = antifraud_pb2.CheckRequest(
            payment_id=str(payment.payment_id),
            user_id=str(payment.user_id),
            wallet_id=str(payment.wallet_id),
            amount=payment.amount,
            currency=payment.currency,
            recipient=antifraud_pb2.Recipient(
                account_number=payment.recipient["accountNumber"],
                bank_bic=payment.recipient["bankBic"],
                name=payment.recipient["name"],
            ),
            created_at=created_at,
        )
        started = time.perf_counter()
        try:
            metadata = (("authorization", self._identity.authorization(ANTIFRAUD)),)
            response = await self._connected().Check(request, timeout=self._deadline, metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            observe_client_call(CHECK_METHOD, exc.code(), time.perf_counter() - started)
            raise FraudUnavailable(f"{exc.code().name}: {exc.details()}") from exc
        observe_client_call(CHECK_METHOD, grpc.StatusCode.OK, time.perf_counter() - started)
        if response.decision == antifraud_pb2.ALLOW:
            return FraudVerdict(allowed=True, reason="", score=response.score)
        if response.decision == antifraud_pb2.DENY:
            return FraudVerdict(allowed=False, reason=response.reason, score=response.score)
        raise FraudUnavailable(f"no decision in the answer: {response.decision}")

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
