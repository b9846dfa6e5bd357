"""The delivery worker: leases due notifications and hands them to their channel's gateway.

The consumer only writes PENDING rows, so a slow or failing gateway never holds back payment-events, and each
channel has its own in-flight limit and call timeout, so a slow SMS gateway ties up SMS deliveries only. Rows
are leased (`FOR UPDATE SKIP LOCKED`, a lease that expires if a dispatcher dies), so several instances share
the work, and a result is recorded only while the lease is still ours.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping

import structlog
from prometheus_client import Counter

from paysaga.platform.backoff import backoff_delay
from paysaga.platform.db import Database
from paysaga.platform.lease_loop import LeaseLoop
from paysaga.services.notification import repository
from paysaga.services.notification.domain import Channel, Message, Status, status_after_failure
from paysaga.services.notification.gateways import ChannelGateway, GatewayError
from paysaga.services.notification.repository import Notification

log = structlog.get_logger("paysaga.notification.dispatcher")

NOTIFICATION_ATTEMPTS = Counter(
    "paysaga_notification_attempts_total",
    "Delivery attempts by channel and outcome: sent, retry (failed, tried again later), failed (given up), "
    "lease_lost (the result came too late to be recorded)",
    ["channel", "outcome"],
)


class Dispatcher:
    def __init__(
        self,
        db: Database,
        gateways: Mapping[Channel, ChannelGateway],
        *,
        timeouts: Mapping[Channel, float],
        max_attempts: int,
        retry_initial_seconds: float,
        retry_max_seconds: float,
        concurrency: int,
        lease_seconds: float,
        poll_seconds: float,
        stop_grace_seconds: float = 5.0,
    ) -> None:
        self._db = db
        self._gateways = dict(gateways)
        self._timeouts = dict(timeouts)
        self._max_attempts = max_attempts
        self._retry_initial = retry_initial_seconds
        self._retry_max = retry_max_seconds
        self._lease = lease_seconds
        # One claim loop per channel: its own in-flight limit, so a slow gateway holds only its slots.
        # On stop, what is still running after the grace is cancelled (its lease runs out and it is
        # retried, the gateway recognising a repeat by its reference).
        self._loops = [
            LeaseLoop(
                f"notification.{channel}",
                functools.partial(self._claim, channel),
                self._deliver,
                capacity=concurrency,
                poll_seconds=poll_seconds,
                drain_seconds=stop_grace_seconds,
            )
            for channel in self._gateways
        ]

    def wake(self) -> None:
        for loop in self._loops:
            loop.wake()

    def stop(self) -> None:
        for loop in self._loops:
            loop.stop()

    async def run(self) -> None:
        log.info("notification.dispatcher_started", channels=sorted(self._gateways))
        await asyncio.gather(*(loop.run() for loop in self._loops))
        log.info("notification.dispatcher_stopped")

    async def _claim(self, channel: Channel, limit: int) -> list[Notification]:
        async with self._db.connection() as conn:
            return await repository.claim_due(conn, channel, limit=limit, lease_seconds=self._lease)

    async def _deliver(self, n: Notification) -> None:
        bound = log.bind(notification_id=n.notification_id, payment_id=n.payment_id, channel=n.channel)
        try:
            if n.attempts > self._max_attempts:
                # Its last attempt never reported back (a dispatcher died holding it): give up.
                await self._record_failure(n, "no result of the last attempt", permanent=True)
                return
            timeout = self._timeouts[n.channel]
            try:
                message_id = await asyncio.wait_for(
                    self._gateways[n.channel].send(user_id=n.user_id, message=_message(n), reference=n.reference),
                    timeout,
                )
            except TimeoutError:
                await self._record_failure(n, f"gateway timeout after {timeout}s", permanent=False)
            except GatewayError as exc:
                await self._record_failure(n, str(exc), permanent=exc.permanent)
            else:
                async with self._db.connection() as conn:
                    recorded = await repository.mark_sent(conn, n, message_id)
                NOTIFICATION_ATTEMPTS.labels(n.channel, "sent" if recorded else "lease_lost").inc()
                if recorded:
                    bound.debug("notification.sent", attempts=n.attempts, gateway_message_id=message_id)
                else:
                    bound.warning("notification.lease_lost", attempts=n.attempts)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug in an adapter or the database went away: the lease runs out and it is retried.
            bound.exception("notification.delivery_crashed", error=repr(exc))

    async def _record_failure(self, n: Notification, error: str, *, permanent: bool) -> None:
        status = Status.FAILED if permanent else status_after_failure(n.attempts, self._max_attempts)
        delay = backoff_delay(n.attempts, initial=self._retry_initial, maximum=self._retry_max)
        async with self._db.connection() as conn:
            recorded = await repository.mark_attempt_failed(conn, n, status=status, error=error, retry_in=delay)
        bound = log.bind(notification_id=n.notification_id, payment_id=n.payment_id, channel=n.channel)
        outcome = "lease_lost" if not recorded else "failed" if status is Status.FAILED else "retry"
        NOTIFICATION_ATTEMPTS.labels(n.channel, outcome).inc()
        if not recorded:
            bound.warning("notification.lease_lost", attempts=n.attempts, error=error)
        elif status is Status.FAILED:
            bound.error("notification.gave_up", attempts=n.attempts, error=error)
        else:
            bound.warning("notification.attempt_failed", attempts=n.attempts, error=error, retry_in=round(delay, 2))


def _message(n: Notification) -> Message:
    return Message(title=n.title, text=n.message)
