"""Seeing the saga (SPEC §9) on the real platform: after real payments of every path, each service's
history route tells its steps, the DWH gives every record of the payment, each consuming service's
inbox says which records its group applied, and the merge of it all (services/ops/timeline.py) is in
causal order and says what the saga waits for, while it waits."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import httpx
import pytest

from paysaga.contracts.bus import SUBSCRIPTIONS
from paysaga.contracts.cloudevents import EventMeta
from paysaga.contracts.ops import InboxAnswer, PaymentRecords, PaymentSteps, SagaTimeline
from paysaga.contracts.topics import PAYMENT_EVENTS
from paysaga.services.ops.timeline import build_timeline, render_text
from tests.support.infra import Infra
from tests.support.kafka import produce_raw
from tests.support.platform import RunningPlatform
from tests.support.saga import Customer, check_invariants, new_account, register

pytestmark = pytest.mark.e2e

HISTORIES = ("payment", "wallet", "query", "antifraud", "notification", "merchant_callback", "core_banking")
CONSUMERS = sorted(s for s, sub in SUBSCRIPTIONS.items() if sub.applies)
T = TypeVar("T")


def ops_get(platform: RunningPlatform, service: str, path: str, **params: str | list[str]) -> dict:
    response = httpx.get(platform.url(service) + path, params=params, auth=platform.auth(service), timeout=10)
    assert response.status_code == 200, (service, path, response.text)
    return response.json()


def gather(platform: RunningPlatform, payment_id: str) -> SagaTimeline:
    """What the Ops service does for one payment: every service's steps, the DWH's records (with the
    callbacks of the payout Payment knows), each consuming service's inbox for those records."""
    steps = [PaymentSteps.model_validate(ops_get(platform, s, f"/v1/payments/{payment_id}/history")) for s in HISTORIES]
    payment = next(s for s in steps if s.service == "payment")
    txn = payment.state.details.get("providerTxnId") if payment.state else None
    records = PaymentRecords.model_validate(
        ops_get(platform, "dwh", f"/v1/payments/{payment_id}/records", **({"providerTxnId": txn} if txn else {}))
    )
    ids = sorted({r.ce_id for r in records.records if r.ce_id})
    inboxes = (
        [InboxAnswer.model_validate(ops_get(platform, s, "/ops/inbox", eventId=ids)) for s in CONSUMERS] if ids else []
    )
    return build_timeline(payment_id, records=records.records, inboxes=inboxes, steps=steps, now=datetime.now(UTC))


def eventually(what: str, probe: Callable[[], T | None], timeout: float = 40) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def settled(platform: RunningPlatform, payment_id: str, types: list[str]) -> SagaTimeline:
    """The timeline once the DWH has the records of these types and every group applied them."""

    def probe() -> SagaTimeline | None:
        t = gather(platform, payment_id)
        seen = sorted(r.record.ce_type or "" for r in t.records)
        done = all(a.applied for r in t.records for a in r.applications)
        return t if seen == sorted(types) and done and t.final else None

    return eventually(f"the records {types} of {payment_id}, applied by every group", probe)


def kinds(timeline: SagaTimeline, service: str) -> list[str]:
    return [e.kind for e in timeline.entries if e.service == service and e.kind != "applied"]


def summaries(timeline: SagaTimeline, service: str) -> list[str]:
    return [e.summary for e in timeline.entries if e.service == service and e.kind != "applied"]


def payment_details(timeline: SagaTimeline, kind: str) -> list[dict]:
    return [e.details for e in timeline.entries if e.service == "payment" and e.kind == kind]


def check_causal_order(timeline: SagaTimeline) -> None:
    times = [e.at for e in timeline.entries]
    assert times == sorted(times)
    seen: set[str] = set()
    for e in timeline.entries:
        if e.kind == "record" and e.ce_id:
            seen.add(e.ce_id)
        elif e.kind == "applied":
            assert e.ce_id in seen, f"{e.service} applied {e.ce_id} before the record"
    order = [(e.service, e.kind) for e in timeline.entries]
    # Payment records the payment in the transaction that applies PaymentInitiated, after it.
    assert order.index(("payment", "applied")) < order.index(("payment", "received"))
    assert order.index(("wallet", "reservation")) < order.index(("kafka", "record"))
    assert timeline.entries[0].since_start == 0


def pay(customer: Customer, account: str, amount: int = 100_00) -> str:
    response = customer.pay(amount, account)
    assert response.status_code == 202, response.text
    return response.json()["paymentId"]


PATHS = {  # the provider simulator's rule for each path (fraud: the recipient is blocklisted)
    "success": None,
    "fraud": None,
    "decline": {"outcome": "DECLINE"},
    "failed": {"outcome": "FAILED"},
    "5xx": {"outcome": "ERROR_500", "failTimes": 3},
    "duplicate": {"outcome": "DUPLICATE_CALLBACK"},
    "early": {"outcome": "CALLBACK_BEFORE_RESPONSE", "delayMs": 1000},
    "timeout": {"outcome": "NO_CALLBACK"},
    "late": {"outcome": "LATE_SUCCESS", "delayMs": 9000},  # after the 6 s deadline of the test platform
}
COMPLETED = ["PaymentInitiated", "ProviderCallbackReceived", "PaymentCompleted"]


@dataclass
class Paid:
    ids: dict[str, str]
    in_flight: SagaTimeline  # the NO_CALLBACK payment's timeline before its deadline


@pytest.fixture(scope="module")
def paid(platform: RunningPlatform) -> Iterator[Paid]:
    """One payment of every path, at once; the NO_CALLBACK one's timeline while it waits."""
    accounts = {path: new_account() for path in PATHS}
    with (
        httpx.Client(base_url=platform.url("provider_sim"), timeout=10) as sim,
        httpx.Client(base_url=platform.url("bff"), timeout=10) as bff,
    ):
        rules = [{"accountNumber": accounts[p], **rule} for p, rule in PATHS.items() if rule]
        assert sim.put("/_sim/rules", json={"rules": rules}).status_code == 200
        blocked = httpx.put(
            f"{platform.url('antifraud')}/v1/blocklist/{accounts['fraud']}", auth=platform.auth("antifraud"), timeout=10
        )
        assert blocked.status_code in (200, 201), blocked.text
        try:
            customer = register(bff, top_up=10_000_000)
            ids = {path: pay(customer, account) for path, account in accounts.items()}

            def in_flight() -> SagaTimeline | None:
                t = gather(platform, ids["timeout"])
                return t if t.waiting and t.waiting.startswith("waiting for the provider's callback") else None

            waiting = eventually("the NO_CALLBACK payment waiting for the provider's callback", in_flight, timeout=6)
            finals = {path: customer.wait_final(pid, timeout=40) for path, pid in ids.items()}
            assert {p: (v["status"], v["errorCode"]) for p, v in finals.items()} == {
                "success": ("COMPLETED", None),
                "fraud": ("FAILED", "FRAUD_SUSPECTED"),
                "decline": ("FAILED", "PROVIDER_REJECTED"),
                "failed": ("FAILED", "PROVIDER_DECLINED"),
                "5xx": ("COMPLETED", None),
                "duplicate": ("COMPLETED", None),
                "early": ("COMPLETED", None),
                "timeout": ("FAILED", "TIMEOUT"),
                "late": ("FAILED", "TIMEOUT"),
            }
            yield Paid(ids, waiting)
        finally:
            sim.delete("/_sim/rules")


def test_while_in_flight_the_timeline_says_what_the_payment_waits_for(paid: Paid) -> None:
    waiting = paid.in_flight
    assert (waiting.status, waiting.final) == ("PENDING", False)
    assert waiting.waiting is not None
    assert "; next inquiry at " in waiting.waiting and "; deadline " in waiting.waiting
    assert waiting.next_action_at is not None and waiting.waiting_since is not None
    assert kinds(waiting, "payment") == ["received", "fraud-check", "submission"]
    assert render_text(waiting).rstrip().endswith(waiting.waiting)


def test_success_every_service_and_every_group(paid: Paid, platform: RunningPlatform) -> None:
    success = settled(platform, paid.ids["success"], COMPLETED)
    assert (success.status, success.final, success.waiting, success.dead_letters) == ("COMPLETED", True, None, [])
    check_causal_order(success)
    assert kinds(success, "payment") == ["received", "fraud-check", "submission", "callback"]
    assert payment_details(success, "callback")[0]["effect"] == "final"
    assert kinds(success, "wallet") == ["reservation", "settlement"]
    assert summaries(success, "wallet")[1].startswith("committed the reservation: 100.00 RUB paid out")
    [decision] = [e.summary for e in success.entries if e.kind == "fraud-decision"]
    assert decision.startswith("ALLOW")
    assert kinds(success, "query") == ["read-model"]
    assert summaries(success, "query") == ["the customer sees COMPLETED: 100.00 RUB"]
    assert "journal-entry" in kinds(success, "core_banking")
    assert kinds(success, "notification")[:2] == ["notification", "notification"]  # SMS and push
    applied = {r.record.ce_type: sorted(a.group for a in r.applications) for r in success.records}
    assert applied == {
        "PaymentInitiated": sorted(["payment", "query", "notification", "merchant-callback", "core-banking",
                                    "anti-fraud", "dwh"]),
        "ProviderCallbackReceived": ["dwh", "payment"],
        "PaymentCompleted": sorted(["query", "wallet", "notification", "merchant-callback", "core-banking",
                                    "anti-fraud", "dwh"]),
    }  # fmt: skip
    order = [(e.service, e.kind, e.summary) for e in success.entries]
    callback_record = next(i for i, e in enumerate(order) if e[2].startswith("ProviderCallbackReceived on"))
    callback_step = next(i for i, e in enumerate(order) if e[:2] == ("payment", "callback"))
    completed_record = next(i for i, e in enumerate(order) if e[2].startswith("PaymentCompleted on"))
    assert callback_record < callback_step < completed_record
    text = render_text(success)
    assert text.splitlines()[0].startswith(f"payment {paid.ids['success']}  COMPLETED  took ")
    assert "nothing to wait for: the saga is complete" in text


def test_fraud_deny_and_provider_decline(paid: Paid, platform: RunningPlatform) -> None:
    fraud = settled(platform, paid.ids["fraud"], ["PaymentInitiated", "PaymentFailed"])
    assert (fraud.status, fraud.error_code, fraud.waiting) == ("FAILED", "FRAUD_SUSPECTED", None)
    assert kinds(fraud, "payment") == ["received", "fraud-check"]
    [check] = payment_details(fraud, "fraud-check")
    assert (check["decision"], check["reason"], check["toStatus"]) == ("DENY", "RECIPIENT_BLOCKED", "FAILED")
    [decision] = [e.summary for e in fraud.entries if e.kind == "fraud-decision"]
    assert decision.startswith("DENY: RECIPIENT_BLOCKED")
    assert summaries(fraud, "wallet")[1].startswith("released the reservation")
    assert "journal-entry" not in kinds(fraud, "core_banking")
    check_causal_order(fraud)

    decline = settled(platform, paid.ids["decline"], ["PaymentInitiated", "PaymentFailed"])
    assert (decline.status, decline.error_code) == ("FAILED", "PROVIDER_REJECTED")
    assert [d["answer"] for d in payment_details(decline, "submission")] == ["DECLINED"]


def test_a_failed_callback_confirmed_by_the_provider(paid: Paid, platform: RunningPlatform) -> None:
    failed = settled(platform, paid.ids["failed"], ["PaymentInitiated", "ProviderCallbackReceived", "PaymentFailed"])
    assert (failed.status, failed.error_code) == ("FAILED", "PROVIDER_DECLINED")
    assert [d["effect"] for d in payment_details(failed, "callback")] == ["to-confirm"]
    assert payment_details(failed, "inquiry")[-1]["answer"] == "FAILED"
    check_causal_order(failed)


def test_5xx_then_accepted_each_try_with_its_answer(paid: Paid, platform: RunningPlatform) -> None:
    retried = settled(platform, paid.ids["5xx"], COMPLETED)
    tries = payment_details(retried, "submission")
    assert [(d["attempt"], d["answer"]) for d in tries] == [
        (1, "UNAVAILABLE"), (2, "UNAVAILABLE"), (3, "UNAVAILABLE"), (4, "ACCEPTED")
    ]  # fmt: skip
    assert tries[0]["error"].startswith("provider: HTTP 500")


def test_duplicate_and_early_callbacks(paid: Paid, platform: RunningPlatform) -> None:
    duplicate = settled(platform, paid.ids["duplicate"], [*COMPLETED, "ProviderCallbackReceived"])
    assert sorted(d["effect"] for d in payment_details(duplicate, "callback")) == ["duplicate", "final"]

    early = settled(platform, paid.ids["early"], COMPLETED)
    [callback] = payment_details(early, "callback")
    assert (callback["early"], callback["effect"]) == (True, "final")
    order = [(e.service, e.kind, e.summary) for e in early.entries]
    callback_record = next(i for i, e in enumerate(order) if e[2].startswith("ProviderCallbackReceived on"))
    submission = next(i for i, e in enumerate(order) if e[:2] == ("payment", "submission"))
    assert callback_record < submission  # the provider called back before it answered the payout request


def test_inquiries_then_timeout_then_a_late_success(paid: Paid, platform: RunningPlatform) -> None:
    timeout = settled(platform, paid.ids["timeout"], ["PaymentInitiated", "PaymentFailed"])
    assert (timeout.status, timeout.error_code) == ("FAILED", "TIMEOUT")
    inquiries = payment_details(timeout, "inquiry")
    assert len(inquiries) >= 2 and {d["answer"] for d in inquiries} == {"PROCESSING"}
    assert (inquiries[-1]["toStatus"], inquiries[-1]["errorCode"]) == ("FAILED", "TIMEOUT")

    def late_case() -> SagaTimeline | None:
        t = gather(platform, paid.ids["late"])
        return t if t.cases else None

    late = eventually("the late success's reconciliation case", late_case, timeout=30)
    assert [c.details["caseKind"] for c in late.cases] == ["LATE_SUCCESS"]
    assert any(d.get("effect") == "late" for d in payment_details(late, "callback"))
    assert (late.status, late.error_code) == ("FAILED", "TIMEOUT")


async def test_the_paths_kept_the_invariants(paid: Paid, platform: RunningPlatform, infra: Infra) -> None:
    await check_invariants(infra, platform.url("provider_sim"), list(paid.ids.values()))


async def test_a_dead_lettered_payment_initiated_is_what_the_saga_waits_for(
    platform: RunningPlatform, infra: Infra
) -> None:
    """A PaymentInitiated no group can apply (its amount is not a number) is dead-lettered by each; the
    DWH holds the record and its dead letters, and the timeline says the saga waits on the replay."""
    payment_id = str(uuid.uuid4())
    meta = EventMeta(id=str(uuid.uuid4()), type="PaymentInitiated", source="/paysaga/wallet", time=datetime.now(UTC))
    produce_raw(
        infra.kafka,
        PAYMENT_EVENTS,
        key=payment_id,
        value=b'{"paymentId": "%s", "amount": "a lot"}' % payment_id.encode(),
        headers=meta.to_headers(),
    )

    def dead_lettered_by_payment() -> SagaTimeline | None:
        t = gather(platform, payment_id)
        groups = {d.dead_letter.consumer_group for d in t.dead_letters if d.dead_letter}
        return t if "payment" in groups and t.records else None

    timeline = eventually("PaymentInitiated dead-lettered by the payment group", dead_lettered_by_payment)
    assert (timeline.status, timeline.final) == ("PENDING", False)
    assert timeline.waiting == (
        "PaymentInitiated was dead-lettered by group payment: schema-invalid — replay it from Dead letters"
    )
    [record] = timeline.records
    payment = next(a for a in record.applications if a.group == "payment")
    assert (payment.applied, payment.dead_lettered, payment.dead_letter_reason) == (False, True, "schema-invalid")
    letter = next(d for d in timeline.dead_letters if d.dead_letter and d.dead_letter.consumer_group == "payment")
    assert letter.topic == "payment-events.dlq" and letter.dead_letter is not None
    assert (letter.dead_letter.original_topic, letter.dead_letter.original_offset) == (
        PAYMENT_EVENTS,
        record.record.offset,
    )
    assert "dead-letter" in [e.kind for e in timeline.entries]
