"""The Core Banking HTTP API: accounts, trial balance, journal, and corrections by reversal."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from paysaga.platform.db import Database
from paysaga.services.core_banking import handlers
from tests.integration.services.core_banking.helpers import (
    account_totals,
    apply,
    completed,
    initiated,
    journal,
    new_payment_id,
    trial_balance,
)

pytestmark = pytest.mark.integration


async def payout(db: Database, http: httpx.AsyncClient, amount: int, currency: str = "RUB") -> tuple[str, dict]:
    payment_id = new_payment_id()
    await apply(db, handlers.record_payment, initiated(payment_id, amount, currency))
    await apply(db, handlers.post_payout, completed(payment_id))
    (entry,) = await journal(http, payment_id)
    return payment_id, entry


async def reverse(http: httpx.AsyncClient, entry_id: int, reason: str = "posted in error") -> httpx.Response:
    return await http.post(f"/v1/journal/{entry_id}/reversal", json={"reason": reason})


async def test_the_chart_of_accounts(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/accounts")
    assert response.status_code == 200
    items = {a["code"]: a for a in response.json()["items"]}
    assert set(items) == {"1100", "1200", "1900", "2100"}
    assert (items["2100"]["name"], items["2100"]["type"], items["2100"]["normalSide"]) == (
        "Customer funds",
        "LIABILITY",
        "CREDIT",
    )
    assert (items["1100"]["type"], items["1100"]["normalSide"]) == ("ASSET", "DEBIT")
    assert (items["1200"]["name"], items["1200"]["type"], items["1200"]["normalSide"]) == (
        "Acquirer settlement",
        "ASSET",
        "DEBIT",
    )


async def test_the_trial_balance_adds_up_per_currency(db: Database, http: httpx.AsyncClient) -> None:
    before = await trial_balance(http)
    await payout(db, http, 1_500, "RUB")
    await payout(db, http, 2_500, "RUB")
    await payout(db, http, 99, "GBP")
    after = await trial_balance(http)
    assert after["balanced"] is True
    assert account_totals(after, "RUB", "2100")[0] - account_totals(before, "RUB", "2100")[0] == 4_000
    assert account_totals(after, "GBP", "1100")[1] - account_totals(before, "GBP", "1100")[1] == 99
    gbp = next(c for c in after["currencies"] if c["currency"] == "GBP")
    assert gbp["totalDebits"] == gbp["totalCredits"]
    funds = next(a for a in gbp["accounts"] if a["code"] == "2100")
    assert funds["balance"] == funds["credits"] - funds["debits"]  # a liability, in its natural sign
    only = (await http.get("/v1/trial-balance", params={"currency": "GBP"})).json()
    assert [c["currency"] for c in only["currencies"]] == ["GBP"]
    assert (await http.get("/v1/trial-balance", params={"currency": "rub"})).status_code == 422


async def test_a_reversal_mirrors_the_entry_and_leaves_the_original_untouched(
    db: Database, http: httpx.AsyncClient
) -> None:
    before = await trial_balance(http)
    payment_id, original = await payout(db, http, 8_800, "USD")
    response = await reverse(http, original["entryId"], "provider reported a duplicate")
    assert response.status_code == 201, response.text
    reversal = response.json()
    assert response.headers["location"] == f"/v1/journal/{reversal['entryId']}"
    assert reversal["kind"] == "REVERSAL"
    assert reversal["reversesEntryId"] == original["entryId"]
    assert reversal["paymentId"] == payment_id
    assert "provider reported a duplicate" in reversal["description"]
    flip = {"DEBIT": "CREDIT", "CREDIT": "DEBIT"}
    assert sorted((x["accountCode"], x["side"], x["amount"]) for x in reversal["lines"]) == sorted(
        (x["accountCode"], flip[x["side"]], x["amount"]) for x in original["lines"]
    )

    first, second = await journal(http, payment_id)
    assert first["entryId"] == original["entryId"]
    assert first["lines"] == original["lines"]  # unchanged
    assert first["reversedByEntryId"] == reversal["entryId"]
    assert second["entryId"] == reversal["entryId"]
    one = await http.get(f"/v1/journal/{original['entryId']}")
    assert one.json()["reversedByEntryId"] == reversal["entryId"]

    after = await trial_balance(http)
    assert after["balanced"] is True
    for code in ("1100", "2100"):  # the pair nets to zero on every account
        d0, c0 = account_totals(before, "USD", code)
        d1, c1 = account_totals(after, "USD", code)
        assert d1 - d0 == c1 - c0 == 8_800


async def test_an_entry_is_reversed_once_and_a_reversal_is_not_reversed(db: Database, http: httpx.AsyncClient) -> None:
    _, original = await payout(db, http, 100)
    reversal = (await reverse(http, original["entryId"])).json()
    again = await reverse(http, original["entryId"])
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["type"] == "/problems/already-reversed"
    assert again.json()["reversalEntryId"] == reversal["entryId"]
    undo = await reverse(http, reversal["entryId"])
    assert undo.status_code == 409
    assert undo.json()["type"] == "/problems/not-reversible"


async def test_racing_reversals_of_one_entry_make_one_reversal(db: Database, http: httpx.AsyncClient) -> None:
    payment_id, original = await payout(db, http, 5_000)
    answers = await asyncio.gather(*(reverse(http, original["entryId"]) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert [e["kind"] for e in await journal(http, payment_id)] == ["PAYOUT", "REVERSAL"]


async def test_a_completion_redelivered_after_a_reversal_does_not_post_again(
    db: Database, http: httpx.AsyncClient
) -> None:
    payment_id, original = await payout(db, http, 2_000)
    assert (await reverse(http, original["entryId"])).status_code == 201
    await apply(db, handlers.post_payout, completed(payment_id))
    assert [e["kind"] for e in await journal(http, payment_id)] == ["PAYOUT", "REVERSAL"]


async def test_reversal_errors(http: httpx.AsyncClient, db: Database) -> None:
    missing = await reverse(http, 9_000_000_000)
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/not-found"
    _, original = await payout(db, http, 300)
    assert (await http.post(f"/v1/journal/{original['entryId']}/reversal", json={})).status_code == 422
    blank = await reverse(http, original["entryId"], "   ")
    assert blank.status_code == 422
    assert blank.json()["type"] == "/problems/validation-error"  # "not blank" is in the schema now
    assert (await http.get("/v1/journal/9000000000")).status_code == 404


async def test_the_journal_pages_newest_first(db: Database, http: httpx.AsyncClient) -> None:
    ids = [(await payout(db, http, n))[1]["entryId"] for n in (11, 12, 13)]
    page = (await http.get("/v1/journal", params={"limit": 2})).json()
    assert [e["entryId"] for e in page["items"]] == ids[::-1][:2]
    assert page["nextCursor"] == str(ids[1])
    rest = (await http.get("/v1/journal", params={"limit": 2, "cursor": page["nextCursor"]})).json()
    assert rest["items"][0]["entryId"] == ids[0]
    assert all(e["entryId"] < ids[1] for e in rest["items"])
    assert await journal(http, new_payment_id()) == []
