"""Delivery is decoupled from consumption: a slow or failing gateway delays nothing else; failed
attempts are retried with backoff until they succeed or run out."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.services.notification.dispatcher import Dispatcher
from paysaga.services.notification.domain import Channel
from paysaga.services.notification.gateways import Behaviour, SimulatedGateway
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


async def test_a_stuck_sms_gateway_neither_holds_back_the_consumer_nor_push(
    infra: Infra,
    db: Database,
    gateways: dict[Channel, SimulatedGateway],
    service: Callable[..., tuple[EventConsumer, Dispatcher]],
) -> None:
    # Every SMS send hangs for a minute (inside its timeout): if consuming waited for delivery, no
    # event after the first would be applied within this test.
    gateways[Channel.SMS].set_behaviour(Behaviour(delay_ms=60_000))
    payments = [initiated() for _ in range(5)]
    ids = [p.payment_id for p in payments]
    event_ids = []
    for p in payments:
        event_ids.append(publish(infra, p))
        event_ids.append(publish(infra, completed(p.payment_id)))
    consumer, dispatcher = service(sms_timeout_seconds=120.0, lease_seconds=180.0, channel_concurrency=2)
    async with running(consumer), running(dispatcher):

        async def consumed_and_pushed() -> bool:
            found = await rows(db, ids)
            push = [r["status"] for r in found if r["channel"] == "PUSH"]
            return await applied(db, event_ids) and push == ["SENT"] * len(ids)

        assert await eventually(consumed_and_pushed)
        sms = [r for r in await rows(db, ids) if r["channel"] == "SMS"]
        assert [r["status"] for r in sms] == ["PENDING"] * len(ids)
        assert gateways[Channel.SMS].sent() == []
        # The stuck channel holds only its own slots: 2 SMS in flight, the rest waiting their turn.
        assert gateways[Channel.SMS].calls == 2
        assert sum(r["attempts"] for r in sms) <= 2
    # Only this test's pushes: the topic also holds the events of earlier tests (the e2e run).
    users = {p.user_id for p in payments}
    assert len([m for m in gateways[Channel.PUSH].sent() if m.user_id in users]) == len(ids)


async def test_a_failing_gateway_is_retried_with_backoff_until_it_takes_the_message(
    infra: Infra,
    db: Database,
    gateways: dict[Channel, SimulatedGateway],
    service: Callable[..., tuple[EventConsumer, Dispatcher]],
    http: httpx.AsyncClient,
) -> None:
    answer = await http.put("/v1/gateways/push/behaviour", json={"failTimes": 2})
    assert answer.status_code == 200 and answer.json()["behaviour"]["failTimes"] == 2
    start = initiated(amount=500)
    publish(infra, start)
    publish(infra, failed(start.payment_id, "PROVIDER_DECLINED"))
    consumer, dispatcher = service(max_attempts=5)
    async with running(consumer), running(dispatcher):

        async def sent() -> bool:
            return [r["status"] for r in await rows(db, [start.payment_id])] == ["SENT", "SENT"]

        assert await eventually(sent)

    listed = (await http.get("/v1/notifications", params={"paymentId": start.payment_id})).json()["items"]
    assert [(i["channel"], i["status"], i["attempts"], i["lastError"]) for i in listed] == [
        ("PUSH", "SENT", 3, None),
        ("SMS", "SENT", 1, None),
    ]
    [message] = (await http.get("/v1/gateways/push/sent", params={"userId": start.user_id})).json()
    assert message["reference"] == f"{start.payment_id}:PUSH"
    assert "банк получателя отклонил перевод" in message["text"]
    assert gateways[Channel.PUSH].calls_for(message["reference"]) == 3
    gateway = (await http.get("/v1/gateways/PUSH")).json()
    assert (gateway["failures"], gateway["behaviour"]["failTimes"]) == (2, 0)


async def test_attempts_run_out_on_a_gateway_that_keeps_failing_or_timing_out(
    infra: Infra,
    db: Database,
    gateways: dict[Channel, SimulatedGateway],
    service: Callable[..., tuple[EventConsumer, Dispatcher]],
) -> None:
    gateways[Channel.SMS].set_behaviour(Behaviour(fail_rate=1.0))
    gateways[Channel.PUSH].set_behaviour(Behaviour(delay_ms=1_000))  # longer than its timeout
    start = initiated()
    publish(infra, start)
    publish(infra, completed(start.payment_id))
    consumer, dispatcher = service(max_attempts=3, push_timeout_seconds=0.1)
    async with running(consumer), running(dispatcher):

        async def given_up() -> bool:
            return [r["status"] for r in await rows(db, [start.payment_id])] == ["FAILED", "FAILED"]

        assert await eventually(given_up)

    push, sms = await rows(db, [start.payment_id])
    assert (push["attempts"], sms["attempts"]) == (3, 3)
    assert push["last_error"] == "gateway timeout after 0.1s"
    assert sms["last_error"].startswith("simulated SMS gateway failure")
    sms_ref, push_ref = f"{start.payment_id}:SMS", f"{start.payment_id}:PUSH"
    assert gateways[Channel.SMS].calls_for(sms_ref) == gateways[Channel.PUSH].calls_for(push_ref) == 3
    assert gateways[Channel.SMS].sent() == gateways[Channel.PUSH].sent() == []


async def test_the_api_answers_problems_for_bad_requests(http: httpx.AsyncClient) -> None:
    missing = await http.get("/v1/notifications")
    assert missing.status_code == 422
    assert missing.headers["content-type"] == "application/problem+json"
    unknown = await http.get("/v1/notifications", params={"paymentId": "no-such-payment"})
    assert unknown.status_code == 200 and unknown.json()["items"] == []
    assert (await http.get("/v1/gateways/fax/sent")).status_code == 404
    too_much = await http.put("/v1/gateways/sms/behaviour", json={"failRate": 1.5})
    assert too_much.status_code == 422
