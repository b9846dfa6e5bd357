"""WalletToppedUp → one TOP_UP entry per top-up (Dr 1200 Acquirer settlement / Cr 2100 Customer funds),
however often it is delivered; and Customer funds per currency through the account-balances API."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from paysaga.contracts.topics import WALLET_EVENTS, dead_letter_topic
from paysaga.platform.consumer import EventConsumer
from paysaga.platform.db import Database
from paysaga.services.core_banking import handlers, repository
from paysaga.services.core_banking.domain import EntryDraft, EntryKind, Line, Side
from tests.integration.services.core_banking.helpers import (
    account_totals,
    apply,
    completed,
    eventually,
    in_inbox,
    initiated,
    new_payment_id,
    publish,
    top_up_journal,
    topped_up,
    trial_balance,
)
from tests.support.infra import Infra
from tests.support.kafka import wait_for_records

pytestmark = pytest.mark.integration


def lines_of(entry: dict) -> set[tuple[str, str, int, str]]:
    return {(x["accountCode"], x["side"], x["amount"], x["currency"]) for x in entry["lines"]}


async def test_a_top_up_redelivered_with_the_same_or_a_new_event_id_is_journaled_once(
    consumer: EventConsumer, http: httpx.AsyncClient, infra: Infra, db: Database
) -> None:
    before = await trial_balance(http)
    event = topped_up(250_000, "USD")
    first = publish(infra, event)
    publish(infra, event, event_id=first)  # the relay's repeat after a crash: same ce_id
    again = publish(infra, event)  # the same top-up re-published with a new ce_id
    # One key (the walletId), one partition: when the last record is in the inbox, all before it were handled.
    assert await eventually(lambda: in_inbox(db, again))

    (entry,) = await top_up_journal(http, event.top_up_id)
    assert (entry["kind"], entry["topUpId"], entry["paymentId"], entry["sourceEventId"]) == (
        "TOP_UP",
        event.top_up_id,
        None,
        first,
    )
    assert entry["effectiveAt"] == event.created_at.isoformat().replace("+00:00", "Z")
    assert lines_of(entry) == {("1200", "DEBIT", 250_000, "USD"), ("2100", "CREDIT", 250_000, "USD")}
    after = await trial_balance(http)
    assert after["balanced"] is True
    assert account_totals(after, "USD", "2100")[1] - account_totals(before, "USD", "2100")[1] == 250_000
    assert account_totals(after, "USD", "1200")[0] - account_totals(before, "USD", "1200")[0] == 250_000


async def test_the_same_top_up_with_another_amount_is_dead_lettered_and_the_first_stands(
    consumer: EventConsumer, http: httpx.AsyncClient, infra: Infra, db: Database
) -> None:
    event = topped_up(1_000)
    publish(infra, event)
    publish(infra, event.model_copy(update={"amount": 9_999}))  # a breach of the contract, same key
    last = publish(infra, event)  # and the right one again
    assert await eventually(lambda: in_inbox(db, last))
    (entry,) = await top_up_journal(http, event.top_up_id)
    assert {x["amount"] for x in entry["lines"]} == {1_000}
    dead = await asyncio.to_thread(
        wait_for_records,
        infra.kafka,
        dead_letter_topic(WALLET_EVENTS),
        lambda r: r.key == event.wallet_id and r.headers.get("dlq_consumer_group") == consumer.group_id,
    )
    assert len(dead) == 1
    assert "TopUpConflict" in dead[0].headers["dlq_error"]


async def test_customer_funds_are_the_top_ups_less_the_completed_payouts(db: Database, http: httpx.AsyncClient) -> None:
    """Per currency: a top-up credits 2100, a completed payout debits it, a failed one moves nothing."""

    async def funds() -> dict[str, dict]:
        response = await http.get("/v1/accounts/2100/balances")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["code"], body["name"], body["type"]) == ("2100", "Customer funds", "LIABILITY")
        return {c["currency"]: c for c in body["currencies"]}

    before = await funds()
    for amount, currency in ((10_000, "KZT"), (5_000, "KZT"), (300, "CHF")):
        await apply(db, handlers.post_top_up, topped_up(amount, currency))
    paid, refused = new_payment_id(), new_payment_id()
    await apply(db, handlers.record_payment, initiated(paid, 4_000, "KZT"))
    await apply(db, handlers.post_payout, completed(paid))
    await apply(db, handlers.record_payment, initiated(refused, 1_000, "KZT"))  # fails: Core Banking ignores it
    after = await funds()

    def moved(currency: str, field: str) -> int:
        return after[currency][field] - before.get(currency, {}).get(field, 0)

    assert (moved("KZT", "credits"), moved("KZT", "debits"), moved("KZT", "balance")) == (15_000, 4_000, 11_000)
    assert (moved("CHF", "credits"), moved("CHF", "debits"), moved("CHF", "balance")) == (300, 0, 300)
    tb = await trial_balance(http)
    kzt = next(c for c in tb["currencies"] if c["currency"] == "KZT")
    balances = {a["code"]: a["balance"] for a in kzt["accounts"]}
    # The two asset accounts together hold what is owed to the customers.
    assert balances["1200"] + balances["1100"] == balances["2100"] and kzt["balanced"]


async def test_the_account_balances_api_knows_only_the_chart(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/accounts/9999/balances")).status_code == 404
    bad = await http.get("/v1/accounts/21a0/balances")
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    settlement = (await http.get("/v1/accounts/1200/balances")).json()
    assert (settlement["name"], settlement["type"]) == ("Acquirer settlement", "ASSET")


async def test_a_reversed_top_up_keeps_its_id_and_is_not_posted_again(db: Database, http: httpx.AsyncClient) -> None:
    event = topped_up(7_700, "RUB")
    await apply(db, handlers.post_top_up, event)
    (entry,) = await top_up_journal(http, event.top_up_id)
    response = await http.post(f"/v1/journal/{entry['entryId']}/reversal", json={"reason": "card chargeback"})
    assert response.status_code == 201, response.text
    assert response.json()["topUpId"] == event.top_up_id
    await apply(db, handlers.post_top_up, event)  # re-published after the reversal: still journaled
    entries = await top_up_journal(http, event.top_up_id)
    assert [e["kind"] for e in entries] == ["TOP_UP", "REVERSAL"]
    assert lines_of(entries[1]) == {("1200", "CREDIT", 7_700, "RUB"), ("2100", "DEBIT", 7_700, "RUB")}


async def test_the_database_keeps_one_top_up_entry_per_top_up_and_names_it(db: Database) -> None:
    event = topped_up(600)
    await apply(db, handlers.post_top_up, event)
    draft = EntryDraft(
        kind=EntryKind.TOP_UP,
        lines=(Line("1200", "RUB", Side.DEBIT, 600), Line("2100", "RUB", Side.CREDIT, 600)),
        description="again",
        effective_at=event.created_at,
        top_up_id=event.top_up_id,
    )
    async with db.transaction() as conn:
        assert await repository.post(conn, draft) is None
    with pytest.raises(asyncpg.CheckViolationError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO journal_entries (kind, description, effective_at) VALUES ('TOP_UP', 'no id', now())"
            )
    async with db.connection() as conn:
        assert [e.kind for e in await repository.entries_of_top_up(conn, event.top_up_id)] == [EntryKind.TOP_UP]
