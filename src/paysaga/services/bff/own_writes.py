"""Read your own writes: the payments this BFF accepted that the read model has not shown yet.

The Query read model learns of a payment from PaymentInitiated, a moment (or, while Payment or Query
is down, a long while) after the BFF answered 202. Until then the BFF answers for it from its own
store, the idempotency key that accepted it: PENDING, with the amount and recipient the customer
sent. `GET /payments/{id}` does so for one payment; `missing_from` and `first_page` do so for
the first page of the history (unfiltered, or PENDING), so a customer who pays and opens the
history sees the payment at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from paysaga.platform.cursors import encode_cursor
from paysaga.services.bff.repository import KeyRecord


def pending_view(payment_id: UUID, record: KeyRecord) -> dict[str, Any]:
    """A payment accepted a moment ago that the read model has not seen yet: it is PENDING."""
    at = record.created_at.isoformat()
    return {
        "paymentId": str(payment_id),
        "status": "PENDING",
        "amount": record.request["amount"],
        "currency": record.request["currency"],
        "recipient": record.request["recipient"],
        "providerTxnId": None,
        "errorCode": None,
        "createdAt": at,
        "updatedAt": at,
    }


def _position(item: dict[str, Any]) -> tuple[datetime, UUID]:
    return datetime.fromisoformat(item["createdAt"]), UUID(item["paymentId"])


def _placed(record: KeyRecord, page: dict[str, Any]) -> bool:
    """Whether the read model would put this payment on `page` once it has it: the page is the
    last one, or the payment is newer than the page's oldest item."""
    items = page["items"]
    return page.get("nextCursor") is None or not items or record.created_at > _position(items[-1])[0]


def missing_from(newest: dict[str, Any], accepted: list[KeyRecord]) -> list[KeyRecord]:
    """The accepted payments the read model does not have yet, judged from its unfiltered first
    page `newest`: a payment is missing when that page lacks it though the read model would have
    put it there. The BFF stamps its record before the Wallet reserves (the read model's time of
    the payment), so a payment the read model has is never older there than in the record: it is
    never judged missing by mistake."""
    shown = {item["paymentId"] for item in newest["items"]}
    return [r for r in accepted if str(r.resource_id) not in shown and _placed(r, newest)]


def _just_above(item: dict[str, Any]) -> str:
    """A cursor whose next page starts with `item` (pages start strictly after their cursor)."""
    at, payment_id = _position(item)
    if payment_id.int < (1 << 128) - 1:
        return encode_cursor(at, UUID(int=payment_id.int + 1))
    return encode_cursor(at + timedelta(microseconds=1), UUID(int=0))


def first_page(page: dict[str, Any], missing: list[KeyRecord], limit: int) -> dict[str, Any]:
    """The read model's first page (newest first, at most `limit` items, with its `nextCursor`)
    with the `missing` payments that belong on it merged in as PENDING, in order, still at most
    `limit` items. The read-model items that this pushes off the page start the next page:
    `nextCursor` then names the last read-model item kept (the next pages come from the read
    model alone, and a cursor never names a payment the read model may place elsewhere)."""
    added = [pending_view(r.resource_id, r) for r in missing if _placed(r, page)]
    if not added:
        return page
    items: list[dict[str, Any]] = page["items"]
    kept = sorted([*items, *added], key=_position, reverse=True)[:limit]
    merged_ids = {item["paymentId"] for item in added}
    from_model = [item for item in kept if item["paymentId"] not in merged_ids]
    if len(from_model) == len(items):
        return {"items": kept, "nextCursor": page.get("nextCursor")}
    next_cursor = encode_cursor(*_position(from_model[-1])) if from_model else _just_above(items[0])
    return {"items": kept, "nextCursor": next_cursor}
