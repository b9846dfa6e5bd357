"""The delivery worker: leases due notifications and hands them to their channel's gateway.

Delivery is decoupled from consumption: the consumer only writes PENDING rows, so a slow or failing
gateway never holds back payment-events. Each channel has its own in-flight limit and call timeout,
so a slow SMS gateway ties up SMS deliveries only, never push. Rows are leased (`FOR UPDATE SKIP
LOCKED`, a lease that expires if a dispatcher dies), so several instances can share the work; the
attempt is counted when claimed, and a result is recorded only while the lease is still ours.
Failed attempts are retried with exponential backoff until `max_attempts`, then FAILED.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Mapping

import structlog

from paysaga.platform.db import Database
from paysaga.services.notification import repository
from paysaga.services.notification.domain import Channel, Message, Status, retry_delay, status_after_failure
from paysaga.services.notification.gateways import ChannelGateway, GatewayError
from paysaga.services.notification.repository import Notification

log = structlog.get_logger("paysaga.notification.dispatcher")


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
        self._concurrency = concurrency
        self._lease = lease_seconds
        self._poll = poll_seconds
        self._grace = stop_grace_seconds
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: dict[Channel, set[asyncio.Task[None]]] = {c: set() for c in self._gateways}
        # Per channel: the last claim filled every free slot, so more may be due.
        self._maybe_more: dict[Channel, bool] = dict.fromkeys(self._gateways, False)

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()

    async def run(self) -> None:
        log.info("notification.dispatcher_started", channels=sorted(self._gateways))
        while not self._stopping.is_set():
            self._wakeup.clear()
            more = False
            for channel in self._gateways:
                more |= await self._claim(channel)
            if more:
                await asyncio.sleep(0)  # maybe more due: claim again right away
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll)
        await self._drain()
        log.info("notification.dispatcher_stopped")

    async def _claim(self, channel: Channel) -> bool:
        """Start deliveries of `channel` up to its free slots; True if it may have more due."""
        running = self._in_flight[channel]
        capacity = self._concurrency - len(running)
        if capacity <= 0:
            self._maybe_more[channel] = True
            return False
        try:
            async with self._db.connection() as conn:
                claimed = await repository.claim_due(conn, channel, limit=capacity, lease_seconds=self._lease)
        except Exception as exc:  # the database is away: wait and try again
            log.warning("notification.claim_failed", channel=channel, error=repr(exc))
            return False
        self._maybe_more[channel] = len(claimed) == capacity
        for notification in claimed:
            task = asyncio.create_task(self._deliver(notification))
            running.add(task)
            task.add_done_callback(functools.partial(self._done, channel))
        return len(claimed) == capacity

    def _done(self, channel: Channel, task: asyncio.Task[None]) -> None:
        self._in_flight[channel].discard(task)
        if self._maybe_more[channel]:
            self._wakeup.set()  # a slot is free and work may be waiting for it

    async def _drain(self) -> None:
        """Finish the deliveries in hand; what is still running after the grace is cancelled
        (its lease runs out and it is retried, the gateway recognising a repeat by its reference)."""
        tasks = [t for running in self._in_flight.values() for t in running]
        if not tasks:
            return
        _, still = await asyncio.wait(tasks, timeout=self._grace)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still)

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
                if recorded:
                    bound.info("notification.sent", attempts=n.attempts, gateway_message_id=message_id)
                else:
                    bound.warning("notification.lease_lost", attempts=n.attempts)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug in an adapter or the database went away: the lease runs out and it is retried.
            bound.exception("notification.delivery_crashed", error=repr(exc))

    async def _record_failure(self, n: Notification, error: str, *, permanent: bool) -> None:
        status = Status.FAILED if permanent else status_after_failure(n.attempts, self._max_attempts)
        delay = retry_delay(n.attempts, initial=self._retry_initial, maximum=self._retry_max)
        async with self._db.connection() as conn:
            recorded = await repository.mark_attempt_failed(conn, n, status=status, error=error, retry_in=delay)
        bound = log.bind(notification_id=n.notification_id, payment_id=n.payment_id, channel=n.channel)
        if not recorded:
            bound.warning("notification.lease_lost", attempts=n.attempts, error=error)
        elif status is Status.FAILED:
            bound.error("notification.gave_up", attempts=n.attempts, error=error)
        else:
            bound.warning("notification.attempt_failed", attempts=n.attempts, error=error, retry_in=round(delay, 2))


def _message(n: Notification) -> Message:
    return Message(title=n.title, text=n.message)
