"""Exactly one notification per payment and channel, whatever is redelivered, republished or
raced; the events of a payment may arrive in either order."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.services.notification.dispatcher import Dispatcher
from paysaga.services.notification.domain import NBSP, Channel, Language
from paysaga.services.notification.gateways import SimulatedGateway
from tests.integration.services.notification.conftest import running
from tests.integration.services.notification.helpers import (
    applied,
    completed,
    eventually,
    failed,
    initiated,
    publish,
    rows,
)
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


async def test_redelivered_and_republished_events_notify_once_per_channel(
    infra: Infra,
    db: Database,
    gateways: dict[Channel, SimulatedGateway],
    service: Callable[..., tuple[EventConsumer, Dispatcher]],
    http: httpx.AsyncClient,
) -> None:
    start = initiated(amount=150_000)
    pid, user = start.payment_id, start.user_id
    end = completed(pid)
    first_start = publish(infra, start)
    publish(infra, start, event_id=first_start)  # a redelivery: the same event id again
    first_end = publish(infra, end)
    publish(infra, end, event_id=first_end)
    second_end = publish(infra, end)  # the same outcome published again under a new id (relay crash)
    second_start = publish(infra, start)  # and a late copy of PaymentInitiated
    consumer, dispatcher = service()
    async with running(consumer), running(dispatcher):

        async def settled() -> bool:
            done = await rows(db, [pid])
            everything = [first_start, first_end, second_end, second_start]
            return await applied(db, everything) and len(done) >= 2 and all(r["status"] == "SENT" for r in done)

        assert await eventually(settled)

    notifications = await rows(db, [pid])
    assert [(r["channel"], r["status"], r["attempts"]) for r in notifications] == [
        ("PUSH", "SENT", 1),
        ("SMS", "SENT", 1),
    ]
    for channel in Channel:
        [sent] = gateways[channel].sent(user_id=user)
        assert sent.reference == f"{pid}:{channel.value}"
        assert f"1{NBSP}500,00{NBSP}₽" in sent.text and "Иван Петров" in sent.text and "выполнен" in sent.text
        assert gateways[channel].calls_for(sent.reference) == 1  # nothing was even attempted twice

    response = await http.get("/v1/notifications", params={"paymentId": pid})
    assert response.status_code == 200
    body = response.json()
    assert body["paymentId"] == pid
    assert [(i["channel"], i["status"], i["attempts"], i["userId"]) for i in body["items"]] == [
        ("PUSH", "SENT", 1, user),
        ("SMS", "SENT", 1, user),
    ]
    assert all(i["eventType"] == "PaymentCompleted" and i["language"] == "ru" for i in body["items"])
    assert {i["gatewayMessageId"] for i in body["items"]} == {gateways[c].sent()[0].message_id for c in Channel}


async def test_an_outcome_before_its_details_is_notified_once_the_details_arrive_in_english(
    infra: Infra,
    db: Database,
    gateways: dict[Channel, SimulatedGateway],
    service: Callable[..., tuple[EventConsumer, Dispatcher]],
) -> None:
    start = initiated(amount=99_950)
    pid = start.payment_id
    outcome_id = publish(infra, failed(pid, "FRAUD_SUSPECTED"))  # the outcome first (same key, same partition)
    consumer, dispatcher = service(default_language=Language.EN)
    async with running(consumer), running(dispatcher):
        assert await eventually(lambda: applied(db, [outcome_id]))
        assert await rows(db, [pid]) == []  # nobody to tell yet: who and how much come with PaymentInitiated
        publish(infra, start)

        async def sent() -> bool:
            return [r["status"] for r in await rows(db, [pid])] == ["SENT", "SENT"]

        assert await eventually(sent)

    for row in await rows(db, [pid]):
        assert row["language"] == "en" and row["title"] == "Payment failed"
        assert row["message"] == (
            "PaySaga: your payment of ₽999.50 to Иван Петров failed because it was blocked by our security checks. "
            f"The money is available in your wallet again. Ref {pid[:8]}."
        )
    assert [m.title for m in gateways[Channel.PUSH].sent(user_id=start.user_id)] == ["Payment failed"]
    assert [m.title for m in gateways[Channel.SMS].sent(user_id=start.user_id)] == [None]


async def test_two_dispatchers_deliver_each_notification_once(
    infra: Infra,
    db: Database,
    gateways: dict[Channel, SimulatedGateway],
    service: Callable[..., tuple[EventConsumer, Dispatcher]],
) -> None:
    payments = [initiated(amount=10_000 + n) for n in range(12)]
    ids = [p.payment_id for p in payments]
    for p in payments:
        publish(infra, p)
        publish(infra, completed(p.payment_id))
    consumer, first = service()
    _, second = service()  # a second instance sharing the database (and, here, the gateways)
    async with running(consumer), running(first), running(second):

        async def all_sent() -> bool:
            found = await rows(db, ids)
            return len(found) == 2 * len(ids) and all(r["status"] == "SENT" for r in found)

        assert await eventually(all_sent)

    # Leases keep the instances apart: each notification was handed to a gateway exactly once.
    for channel in Channel:
        references = [m.reference for m in gateways[channel].sent() if m.reference.split(":")[0] in ids]
        assert sorted(references) == sorted(f"{pid}:{channel.value}" for pid in ids)
        assert {gateways[channel].calls_for(ref) for ref in references} == {1}
    assert {r["attempts"] for r in await rows(db, ids)} == {1}
