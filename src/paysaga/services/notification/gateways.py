"""Channel adapters: how a notification leaves the platform.

`ChannelGateway` is what the dispatcher needs of an SMS or push provider. The only adapters are
simulated gateways: in-process stand-ins that record what they would send and can be made slow or
failing (settings at start-up, `PUT /v1/gateways/{channel}/behaviour` at run time). Like real
providers they take an idempotency key (`reference`): a send repeated after a timeout or a crash
returns the first message id instead of texting the customer twice.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from paysaga.services.notification.domain import Channel, Message


class GatewayError(Exception):
    """The gateway did not take the message. `permanent`: retrying cannot help (e.g. unknown user)."""

    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.permanent = permanent


class ChannelGateway(Protocol):
    channel: Channel

    async def send(self, *, user_id: str, message: Message, reference: str) -> str:
        """Hand the message over; returns the gateway's message id, raises `GatewayError`."""
        ...


@dataclass(frozen=True, slots=True)
class Behaviour:
    delay_ms: int = 0  # every send takes this long
    fail_times: int = 0  # the next N sends fail
    fail_rate: float = 0.0  # then each send fails with this probability


@dataclass(frozen=True, slots=True)
class SentMessage:
    message_id: str
    channel: Channel
    user_id: str
    reference: str
    title: str | None  # push only; an SMS is just text
    text: str
    sent_at: datetime


class SimulatedGateway:
    """An in-memory SMS or push provider (keeps the latest `keep` messages)."""

    def __init__(
        self,
        channel: Channel,
        behaviour: Behaviour | None = None,
        *,
        keep: int = 10_000,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.channel = channel
        self._behaviour = behaviour or Behaviour()
        self._keep = keep
        self._rand = rand
        self._sent: OrderedDict[str, SentMessage] = OrderedDict()  # by reference
        self._calls_by_reference: Counter[str] = Counter()
        self.calls = 0
        self.failures = 0

    @property
    def behaviour(self) -> Behaviour:
        return self._behaviour

    def set_behaviour(self, behaviour: Behaviour) -> None:
        self._behaviour = behaviour

    async def send(self, *, user_id: str, message: Message, reference: str) -> str:
        self.calls += 1
        self._calls_by_reference[reference] += 1
        if self._behaviour.delay_ms:
            await asyncio.sleep(self._behaviour.delay_ms / 1000)
        known = self._sent.get(reference)
        if known is not None:
            return known.message_id  # the same message again: accepted once, answered the same
        if self._behaviour.fail_times > 0:
            self._behaviour = replace(self._behaviour, fail_times=self._behaviour.fail_times - 1)
            self.failures += 1
            raise GatewayError(f"simulated {self.channel.value} gateway failure")
        if self._behaviour.fail_rate and self._rand() < self._behaviour.fail_rate:
            self.failures += 1
            raise GatewayError(f"simulated {self.channel.value} gateway failure (rate)")
        sent = SentMessage(
            message_id=f"{self.channel.value.lower()}-{uuid.uuid4()}",
            channel=self.channel,
            user_id=user_id,
            reference=reference,
            title=message.title if self.channel is Channel.PUSH else None,
            text=message.text,
            sent_at=datetime.now(UTC),
        )
        self._sent[reference] = sent
        while len(self._sent) > self._keep:
            self._sent.popitem(last=False)
        return sent.message_id

    def calls_for(self, reference: str) -> int:
        """How many times a message was handed over (a repeat of a reference is a retry)."""
        return self._calls_by_reference[reference]

    def sent(self, *, user_id: str | None = None) -> list[SentMessage]:
        """What was sent, oldest first (optionally to one user)."""
        return [m for m in self._sent.values() if user_id is None or m.user_id == user_id]
