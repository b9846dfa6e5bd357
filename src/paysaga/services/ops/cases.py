"""Reconciliation cases (SPEC §9): Payment owns them; the Ops service lists them, shows one with its
evidence and resolves it through Payment's ops routes, naming the operator, under an audit entry."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from paysaga.services.ops.peers import Peer
from paysaga.services.ops.schemas import CaseEvidence, CaseList, CaseView

CASES = "/v1/reconciliation-cases"


class ReconciliationCases:
    def __init__(self, payment: Peer) -> None:
        self._payment = payment

    async def list(self, *, status: str, kind: str | None, payment_id: UUID | None, limit: int) -> CaseList:
        params: dict[str, str] = {"status": status, "limit": str(limit)}
        if kind:
            params["kind"] = kind
        if payment_id:
            params["paymentId"] = str(payment_id)
        response = await self._payment.request("GET", CASES, params=params)
        return CaseList(items=[CaseView.model_validate(c) for c in response.json()])

    async def get(self, case_id: int) -> CaseEvidence:
        response = await self._payment.request("GET", f"{CASES}/{case_id}")
        return CaseEvidence.model_validate(response.json())

    async def resolve(self, case_id: int, *, operator_id: UUID, note: str) -> CaseView:
        body: dict[str, Any] = {"resolvedBy": str(operator_id), "note": note}
        response = await self._payment.request("POST", f"{CASES}/{case_id}/resolve", json=body)
        return CaseView.model_validate(response.json())
