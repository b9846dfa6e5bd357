"""Seeing one payment's saga (SPEC §9) through the Ops service: fetch, at once, every service's
history of the payment, Payment's own view of it (its trace id), and the consumer groups' lag; then
the DWH's records of it (with the callbacks of the payout Payment knows); then every consuming
service's inbox for those records; and merge it all with the pure `timeline.build_timeline`.

A service (or Kafka) that does not answer in time is a note of the timeline, never an error of it.
The payment is unknown (404) only when Payment and the DWH both answered and neither knows it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog

from paysaga.contracts.bus import SUBSCRIPTIONS
from paysaga.contracts.ops import InboxAnswer, PaymentRecords, PaymentSteps, SagaTimeline
from paysaga.platform.http_client import HttpTransportError
from paysaga.platform.inbox_status import MAX_IDS
from paysaga.platform.problems import not_found
from paysaga.services.ops.kafka_clients import CONTRACT_GROUPS, ClusterView, OpsKafka
from paysaga.services.ops.peers import Peer, Peers
from paysaga.services.ops.timeline import Committed, Lag, build_timeline

log = structlog.get_logger("paysaga.ops")

# The services that keep a history of a payment (`GET /v1/payments/{paymentId}/history`).
HISTORIES = ("payment", "wallet", "query", "antifraud", "notification", "merchant_callback", "core_banking")
# The services whose consumer groups apply events (their inbox says which).
CONSUMERS = tuple(sorted(s for s, sub in SUBSCRIPTIONS.items() if sub.applies))
T = TypeVar("T")


class PeerUnavailable(Exception):
    """A service did not answer, or not as expected; the message says how."""


def trace_url(zipkin_url: str, trace_id: str | None) -> str | None:
    """The payment's trace in Zipkin's UI, when there is a trace and a Zipkin."""
    if not trace_id or not zipkin_url:
        return None
    return f"{zipkin_url.rstrip('/')}/zipkin/traces/{trace_id}"


def lag_of(view: Any) -> Lag:
    """group → (topic, partition) → lag, from a `kafka_clients.ClusterView`."""
    return {g.group: {(p.topic, p.partition): p.lag for p in g.partitions} for g in view.groups}


def committed_of(view: Any) -> Committed:
    """group → (topic, partition) → committed offset, from a `kafka_clients.ClusterView`."""
    return {g.group: {(p.topic, p.partition): p.committed for p in g.partitions} for g in view.groups}


class SagaView:
    def __init__(self, peers: Peers, kafka: OpsKafka, *, timeout: float, zipkin_url: str) -> None:
        self._peers = peers
        self._kafka = kafka
        self._timeout = timeout
        self._zipkin_url = zipkin_url

    async def _get(self, service: str, path: str, params: Mapping[str, str] | Sequence[tuple[str, str]] = ()) -> Any:
        """The JSON body of a 200 from one service, as the operators' identity; PeerUnavailable else."""
        if service not in self._peers:
            raise PeerUnavailable("not configured (OPS_SERVICE_URLS)")
        peer: Peer = self._peers[service]
        try:
            response = await asyncio.wait_for(peer.send("GET", path, params=params or None), self._timeout)
        except (HttpTransportError, TimeoutError) as exc:
            raise PeerUnavailable(f"no answer ({type(exc).__name__})") from exc
        if response.status_code != 200:
            log.warning("ops.saga_peer_failed", service=service, path=path, status=response.status_code)
            raise PeerUnavailable(f"HTTP {response.status_code}")
        return response.json()

    async def _lag(self) -> tuple[Lag, Committed]:
        try:
            groups = await asyncio.wait_for(
                asyncio.to_thread(self._kafka.group_lag, CONTRACT_GROUPS, timeout=self._timeout), self._timeout * 3
            )
        except Exception as exc:
            raise PeerUnavailable(f"no answer ({type(exc).__name__})") from exc
        view = ClusterView(groups, ())
        return lag_of(view), committed_of(view)

    async def timeline(self, payment_id: str) -> SagaTimeline:
        unavailable: dict[str, str] = {}

        async def attempt(service: str, call: Awaitable[T]) -> T | None:
            try:
                return await call
            except PeerUnavailable as exc:
                unavailable[service] = str(exc)
                return None

        path = f"/v1/payments/{payment_id}/history"
        histories, (found, positions) = await asyncio.gather(
            asyncio.gather(*(attempt(s, self._get(s, path)) for s in HISTORIES)),
            asyncio.gather(
                attempt("payment", self._get("payment", "/v1/payments", {"paymentId": payment_id, "limit": "1"})),
                attempt("kafka", self._lag()),
            ),
        )
        steps = [PaymentSteps.model_validate(h) for h in histories if h is not None]
        payment = next((s for s in steps if s.service == "payment"), None)
        txn = payment.state.details.get("providerTxnId") if payment and payment.state else None
        body = await attempt(
            "dwh",
            self._get("dwh", f"/v1/payments/{payment_id}/records", {"providerTxnId": str(txn)} if txn else {}),
        )
        records = PaymentRecords.model_validate(body).records if body is not None else []
        if (
            payment is not None
            and payment.state is None
            and body is not None
            and not records
            and not any(s.steps for s in steps)
        ):
            raise not_found(f"no payment {payment_id}: neither Payment nor the DWH knows it")
        ids = sorted({r.ce_id for r in records if r.ce_id})
        inboxes: list[InboxAnswer] = []
        if ids:
            answers = await asyncio.gather(*(attempt(s, self._inbox(s, ids)) for s in CONSUMERS))
            inboxes = [a for a in answers if a is not None]
        timeline = build_timeline(
            payment_id,
            records=records,
            inboxes=inboxes,
            steps=steps,
            now=datetime.now(UTC),
            lag=positions[0] if positions else None,
            committed=positions[1] if positions else None,
            unavailable=unavailable,
        )
        items = (found or {}).get("items") or []
        trace_id = items[0].get("traceId") if items else None
        return timeline.model_copy(
            update={
                "trace_id": trace_id,
                "trace_url": trace_url(self._zipkin_url, trace_id),
                "unavailable": unavailable,
            }
        )

    async def _inbox(self, service: str, ids: list[str]) -> InboxAnswer:
        events = []
        groups: list[str] = []
        for start in range(0, len(ids), MAX_IDS):
            params = [("eventId", i) for i in ids[start : start + MAX_IDS]]
            answer = InboxAnswer.model_validate(await self._get(service, "/ops/inbox", params))
            events += answer.events
            groups = answer.groups
        return InboxAnswer(service=service, groups=groups, events=events)
