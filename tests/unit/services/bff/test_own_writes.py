"""Merging the accepted payments the read model lacks into the first history page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from paysaga.platform.cursors import decode_cursor
from paysaga.services.bff.own_writes import first_page, missing_from
from paysaga.services.bff.repository import KeyRecord

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def accepted(seconds: float) -> KeyRecord:
    request = {"amount": 100, "currency": "RUB", "recipient": {"name": "A"}}
    return KeyRecord("h", uuid.uuid4(), request, 202, {}, T0 + timedelta(seconds=seconds))


def in_model(seconds: float, payment_id: uuid.UUID | None = None) -> dict[str, Any]:
    at = (T0 + timedelta(seconds=seconds)).isoformat()
    return {"paymentId": str(payment_id or uuid.uuid4()), "status": "COMPLETED", "createdAt": at, "updatedAt": at}


def ids(page: dict[str, Any]) -> list[str]:
    return [item["paymentId"] for item in page["items"]]


def test_a_payment_on_the_page_or_older_than_a_full_page_is_not_missing() -> None:
    shown, lagging, older = accepted(5), accepted(6), accepted(1)
    page = {"items": [in_model(5.01, shown.resource_id), in_model(3)], "nextCursor": "more"}
    assert missing_from(page, [lagging, shown, older]) == [lagging]
    assert missing_from({**page, "nextCursor": None}, [lagging, shown, older]) == [lagging, older]


def test_merged_in_order_and_the_cursor_names_the_last_read_model_item_kept() -> None:
    lagging = accepted(10)
    items = [in_model(9), in_model(8), in_model(7)]
    page = first_page({"items": items, "nextCursor": None}, [lagging], limit=3)
    assert ids(page) == [str(lagging.resource_id), items[0]["paymentId"], items[1]["paymentId"]]
    assert page["items"][0]["status"] == "PENDING"
    at, payment_id = decode_cursor(page["nextCursor"])
    assert (at.isoformat(), str(payment_id)) == (items[1]["createdAt"], items[1]["paymentId"])


def test_a_page_of_accepted_payments_only_starts_the_next_at_the_newest_read_model_item() -> None:
    newest = in_model(5)
    page = first_page({"items": [newest], "nextCursor": None}, [accepted(7), accepted(6)], limit=2)
    assert [item["status"] for item in page["items"]] == ["PENDING", "PENDING"]
    at, payment_id = decode_cursor(page["nextCursor"])
    assert at.isoformat() == newest["createdAt"] and payment_id.int == uuid.UUID(newest["paymentId"]).int + 1


def test_nothing_missing_leaves_the_page_as_it_is() -> None:
    page = {"items": [in_model(1)], "nextCursor": "c"}
    assert first_page(page, [], limit=1) is page
