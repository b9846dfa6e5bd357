"""Fleet health (SPEC §9): one call fans out at once — every service's /healthz, /readyz and (for a
service that publishes) /ops/outbox, and Kafka's consumer groups, committed offsets and
watermarks — each under a short timeout. What does not answer in time is shown as down, never
turned into an error of the whole view."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import structlog

from paysaga.platform.http_client import HttpTransportError
from paysaga.platform.outbox_status import PATH as OUTBOX_PATH
from paysaga.services.ops.domain import DLQ_SUFFIX
from paysaga.services.ops.kafka_clients import ClusterView, OpsKafka
from paysaga.services.ops.peers import Peer, Peers
from paysaga.services.ops.schemas import (
    ConsumerGroupView,
    DeadLetterTopicView,
    Fleet,
    KafkaView,
    OutboxBacklogView,
    PartitionLagView,
    ServiceHealth,
)

log = structlog.get_logger("paysaga.ops")


class FleetView:
    def __init__(self, peers: Peers, kafka: OpsKafka, *, timeout: float) -> None:
        self._peers = peers
        self._kafka = kafka
        self._timeout = timeout

    async def snapshot(self) -> Fleet:
        services, kafka = await asyncio.gather(
            asyncio.gather(*(self._service(peer) for peer in self._peers)), self._cluster()
        )
        view, error = kafka
        return Fleet(
            generated_at=datetime.now(UTC),
            services=list(services),
            consumer_groups=_groups(view) if view else [],
            dead_letter_topics=[DeadLetterTopicView(topic=t.topic, records=t.records) for t in view.topics]
            if view
            else [],
            kafka=KafkaView(reachable=view is not None, error=error),
        )

    async def _cluster(self) -> tuple[ClusterView | None, str | None]:
        try:
            view = await asyncio.wait_for(
                asyncio.to_thread(
                    self._kafka.cluster_view, timeout=self._timeout, size_of=lambda t: t.endswith(DLQ_SUFFIX)
                ),
                self._timeout * 2,  # several admin requests, each under the timeout
            )
            return view, None
        except Exception as exc:
            log.warning("ops.fleet_kafka_failed", error=repr(exc))
            return None, f"Kafka did not answer: {type(exc).__name__}"

    async def _service(self, peer: Peer) -> ServiceHealth:
        started = time.perf_counter()
        live, ready, outbox = await asyncio.gather(
            self._probe(peer, "/healthz"), self._probe(peer, "/readyz"), self._probe(peer, OUTBOX_PATH, auth=True)
        )
        is_live = live is not None and live[0] == 200
        ready_answered = ready is not None and ready[0] in (200, 503)
        checks: dict[str, str] = {}
        if ready_answered and ready is not None and isinstance(ready[1], dict):
            checks = {str(k): str(v) for k, v in (ready[1].get("checks") or {}).items()}
        is_ready = (ready is not None and ready[0] == 200) if ready_answered else None
        backlog = (
            OutboxBacklogView.model_validate(outbox[1])
            if outbox is not None and outbox[0] == 200 and isinstance(outbox[1], dict)
            else None
        )
        if not is_live and not ready_answered:
            status, error = "down", "no answer"
        elif is_ready:
            status, error = "up", None
        else:
            failing = sorted(name for name, state in checks.items() if state != "ok")
            status = "degraded"
            error = f"not ready: {', '.join(failing)} failing" if failing else "readiness did not answer in time"
        return ServiceHealth(
            name=peer.name,
            url=peer.base_url,
            status=status,
            live=is_live,
            ready=is_ready,
            checks=checks,
            outbox=backlog,
            error=error,
            probe_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    async def _probe(self, peer: Peer, path: str, *, auth: bool = False) -> tuple[int, Any] | None:
        """(status, JSON body) of a GET, or None when the service did not answer in time. A service
        without an outbox answers its route with 404."""
        try:
            if auth:
                response = await asyncio.wait_for(peer.send("GET", path), self._timeout)
            else:
                response = await asyncio.wait_for(peer.client.get(path), self._timeout)
        except (HttpTransportError, TimeoutError):
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body


def _groups(view: ClusterView) -> list[ConsumerGroupView]:
    return [
        ConsumerGroupView(
            group=g.group,
            state=g.state,
            members=g.members,
            lag=sum(p.lag for p in g.partitions),
            partitions=[
                PartitionLagView(
                    topic=p.topic,
                    partition=p.partition,
                    committed_offset=p.committed,
                    log_start_offset=p.low,
                    high_watermark=p.high,
                    lag=p.lag,
                )
                for p in g.partitions
            ],
        )
        for g in view.groups
    ]
