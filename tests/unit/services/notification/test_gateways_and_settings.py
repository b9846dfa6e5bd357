"""The simulated channel gateways (slow, failing, idempotent on the reference) and the settings."""

import asyncio

import pytest
from pydantic import ValidationError

from paysaga.services.notification.domain import Channel, Language, Message
from paysaga.services.notification.gateways import Behaviour, GatewayError, SimulatedGateway
from paysaga.services.notification.settings import NotificationSettings

pytestmark = pytest.mark.unit

MESSAGE = Message(title="Перевод выполнен", text="PaySaga: перевод выполнен.")


async def test_a_gateway_records_what_it_sends_and_an_sms_has_no_title() -> None:
    sms, push = SimulatedGateway(Channel.SMS), SimulatedGateway(Channel.PUSH)
    sms_id = await sms.send(user_id="u1", message=MESSAGE, reference="p1:SMS")
    push_id = await push.send(user_id="u1", message=MESSAGE, reference="p1:PUSH")
    [sent_sms], [sent_push] = sms.sent(), push.sent()
    assert (sent_sms.message_id, sent_sms.title, sent_sms.text, sent_sms.user_id) == (sms_id, None, MESSAGE.text, "u1")
    assert (sent_push.message_id, sent_push.title) == (push_id, MESSAGE.title)
    assert sms.sent(user_id="someone-else") == []


async def test_a_repeated_reference_is_sent_once_and_answered_with_the_first_id() -> None:
    gateway = SimulatedGateway(Channel.SMS)
    first = await gateway.send(user_id="u1", message=MESSAGE, reference="p1:SMS")
    again = await gateway.send(user_id="u1", message=MESSAGE, reference="p1:SMS")
    other = await gateway.send(user_id="u1", message=MESSAGE, reference="p2:SMS")
    assert again == first != other
    assert [m.reference for m in gateway.sent()] == ["p1:SMS", "p2:SMS"]
    assert (gateway.calls, gateway.calls_for("p1:SMS"), gateway.calls_for("p2:SMS")) == (3, 2, 1)


async def test_fail_times_fails_the_next_sends_then_recovers() -> None:
    gateway = SimulatedGateway(Channel.PUSH, Behaviour(fail_times=2))
    for _ in range(2):
        with pytest.raises(GatewayError) as failure:
            await gateway.send(user_id="u1", message=MESSAGE, reference="p1:PUSH")
        assert not failure.value.permanent  # worth retrying
    await gateway.send(user_id="u1", message=MESSAGE, reference="p1:PUSH")
    assert (gateway.calls, gateway.failures, len(gateway.sent()), gateway.behaviour.fail_times) == (3, 2, 1, 0)


async def test_fail_rate_fails_that_share_of_sends() -> None:
    draws = iter([0.1, 0.9, 0.2, 0.6])
    gateway = SimulatedGateway(Channel.SMS, Behaviour(fail_rate=0.5), rand=lambda: next(draws))
    outcomes = []
    for n in range(4):
        try:
            await gateway.send(user_id="u1", message=MESSAGE, reference=f"p{n}:SMS")
            outcomes.append("sent")
        except GatewayError:
            outcomes.append("failed")
    assert outcomes == ["failed", "sent", "failed", "sent"]


async def test_a_slow_gateway_cut_off_by_a_timeout_has_sent_nothing() -> None:
    gateway = SimulatedGateway(Channel.SMS, Behaviour(delay_ms=500))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(gateway.send(user_id="u1", message=MESSAGE, reference="p1:SMS"), 0.05)
    assert gateway.sent() == []
    gateway.set_behaviour(Behaviour(delay_ms=10))
    await asyncio.wait_for(gateway.send(user_id="u1", message=MESSAGE, reference="p1:SMS"), 1.0)
    assert len(gateway.sent()) == 1


def test_settings_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = NotificationSettings()
    assert (defaults.port, defaults.consumer_group, defaults.default_language) == (8007, "notification", Language.RU)
    monkeypatch.setenv("NOTIFICATION_DEFAULT_LANGUAGE", "en")
    monkeypatch.setenv("NOTIFICATION_SMS_TIMEOUT_SECONDS", "2.5")
    settings = NotificationSettings()
    assert settings.default_language is Language.EN
    assert settings.timeouts() == {Channel.SMS: 2.5, Channel.PUSH: 5.0}


def test_a_lease_shorter_than_a_gateway_call_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICATION_PUSH_TIMEOUT_SECONDS", "40")
    with pytest.raises(ValidationError, match="lease_seconds"):
        NotificationSettings()
    monkeypatch.setenv("NOTIFICATION_DEFAULT_LANGUAGE", "de")
    monkeypatch.setenv("NOTIFICATION_PUSH_TIMEOUT_SECONDS", "1")
    with pytest.raises(ValidationError, match="default_language"):
        NotificationSettings()
