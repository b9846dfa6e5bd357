"""The reconciliation job (SPEC §9): now and then (`OPS_RECONCILIATION_INTERVAL_SECONDS`), or when an
operator asks, it reads Wallet's balances and settlements, Core Banking's Customer funds and
Payment's finals through their ops routes, compares them with the pure rules of `reconciliation`,
and stores the run (its window, when, the differences) in the Ops database.

The window of a run starts where the last successful run's ended and ends `margin` ago (events
still in flight are judged next time); the lists are read for the window widened by the margin on
each side, as the rules expect. A difference is reported only if a second read, a moment later,
still shows it (both sides are read at slightly different moments).

Each difference opens a case (`difference_cases`, in the Ops database, in the transaction that stores
the run): one open case per difference — a funds difference per currency, a payment difference per
payment — that later runs seeing it again update (`lastSeenRun`), until an operator resolves it with
a note (`/ops/v1/reconciliation/cases`); found again after that, it opens a new case. These are the
job's cases; the provider's contradictions are Payment's own cases (`/ops/v1/reconciliation-cases`).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from paysaga.platform.db import Database
from paysaga.platform.periodic import Periodic
from paysaga.services.ops import metrics, repository
from paysaga.services.ops.peers import Peer, Peers
from paysaga.services.ops.reconciliation import (
    FUNDS_MISMATCH,
    PaymentFinal,
    Report,
    Settlement,
    Window,
    customer_funds_from,
    findings,
    reconcile,
    wallet_balances_from,
)

log = structlog.get_logger("paysaga.ops")

PAGE = 1000


class Reconciler:
    def __init__(
        self,
        db: Database,
        peers: Peers,
        *,
        interval_seconds: float,
        margin_seconds: float,
        recheck_seconds: float = 2.0,
    ) -> None:
        self._db = db
        self._peers = peers
        self._interval = timedelta(seconds=interval_seconds)
        self._margin = timedelta(seconds=margin_seconds)
        self._recheck = recheck_seconds
        self._lock = asyncio.Lock()  # one run at a time in this process

    def worker(self) -> Periodic:
        async def scheduled() -> None:
            await self.run(trigger="schedule")

        return Periodic("ops-reconciliation", scheduled, every_seconds=self._interval.total_seconds())

    async def run(self, *, trigger: str, operator_id: UUID | None = None) -> asyncpg.Record:
        """One run, stored; its row."""
        async with self._lock:
            end = datetime.now(UTC) - self._margin
            async with self._db.connection() as conn:
                last = await repository.last_window_end(conn)
            start = min(last, end) if last is not None else end - self._interval
            window = Window(start, end)
            async with self._db.connection() as conn:
                run_id = await repository.begin_run(
                    conn, trigger=trigger, operator_id=operator_id, window_start=start, window_end=end
                )
            try:
                first = await self._report(window)
                report = first
                if not first.clean:  # a difference only if it is still there a moment later
                    await asyncio.sleep(self._recheck)
                    second = await self._report(window)
                    report = Report(
                        funds=tuple(d for d in second.funds if d.currency in {f.currency for f in first.funds}),
                        payments=tuple(d for d in second.payments if d in first.payments),
                    )
            except Exception as exc:
                log.warning("ops.reconciliation_failed", run_id=run_id, error=repr(exc))
                async with self._db.connection() as conn:
                    return await repository.finish_run(
                        conn, run_id, status="failed", funds=[], payments=[], error=repr(exc)[:2000]
                    )
            status = "clean" if report.clean else "differences"
            async with self._db.connection() as conn, conn.transaction():
                # The run and the cases it opens or keeps open commit together.
                cases = {
                    (f.kind, f.subject): await repository.open_case(
                        conn, run_id=run_id, kind=f.kind, subject=f.subject, evidence=f.evidence
                    )
                    for f in findings(report)
                }
                funds = [
                    {**asdict(d), "difference": d.difference, "case_id": cases[(FUNDS_MISMATCH, d.currency)]}
                    for d in report.funds
                ]
                payments = [
                    {
                        **{k: (str(v) if v is not None else None) for k, v in asdict(d).items()},
                        "case_id": cases[(d.kind.value, d.payment_id)],
                    }
                    for d in report.payments
                ]
                row = await repository.finish_run(conn, run_id, status=status, funds=funds, payments=payments)
                open_cases = await repository.count_open_cases(conn)
            metrics.open_cases(open_cases)
            (log.info if report.clean else log.error)(
                "ops.reconciled",
                run_id=run_id,
                status=status,
                funds=len(funds),
                payments=len(payments),
                cases=sorted(set(cases.values())),
            )
            return row

    async def _report(self, window: Window) -> Report:
        wallet, core_banking, payment = self._peers["wallet"], self._peers["core_banking"], self._peers["payment"]
        start, end = window.start - self._margin, window.end + self._margin
        balances, funds, finals, settlements = await asyncio.gather(
            wallet.request("GET", "/v1/balances"),
            core_banking.request("GET", "/v1/accounts/2100/balances"),
            _all_pages(payment, "/v1/finals", start, end),
            _all_pages(wallet, "/v1/settlements", start, end),
        )
        return reconcile(
            wallet_balances=wallet_balances_from(balances.json()),
            customer_funds=customer_funds_from(funds.json()),
            finals=[PaymentFinal.from_json(i) for i in finals],
            settlements=[Settlement.from_json(i) for i in settlements],
            window=window,
        )


async def _all_pages(peer: Peer, path: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Every item of a paged ops list (Payment's finals, Wallet's settlements) in [start, end)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"from": start.isoformat(), "to": end.isoformat(), "limit": str(PAGE)}
        if cursor:
            params["cursor"] = cursor
        body = (await peer.request("GET", path, params=params)).json()
        items += body["items"]
        if (cursor := body.get("nextCursor")) is None:
            return items
