"""The Ops service's own metrics: the cases its reconciliation job opened and nobody resolved yet
(the `ReconciliationCasesOpen` alert pages on them, with Payment's cases of the same metric), and every
consumer group's lag as the brokers see it (committed offsets against high watermarks), which, unlike
the lag each consumer reports of itself, goes on growing while all of a group's consumers are down."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from prometheus_client import Gauge

from paysaga.platform.db import Database
from paysaga.platform.metrics import RECONCILIATION_CASES_OPEN
from paysaga.platform.periodic import Periodic
from paysaga.services.ops import repository
from paysaga.services.ops.kafka_clients import CONTRACT_GROUPS, GroupLag, OpsKafka
from paysaga.services.ops.reconciliation import FUNDS_MISMATCH, PaymentDifferenceKind

GROUP_LAG = Gauge(
    "paysaga_group_lag_records",
    "Records of a partition the consumer group has not committed yet, from the brokers (the Ops service's view)",
    ["group", "topic", "partition"],
)
KINDS = (FUNDS_MISMATCH, *(k.value for k in PaymentDifferenceKind))


def open_cases(counts: Mapping[str, int]) -> None:
    for kind in KINDS:
        RECONCILIATION_CASES_OPEN.labels(kind).set(counts.get(kind, 0))


class LagGauge:
    """Sets `paysaga_group_lag_records` from the groups' lag; drops the partitions a group left."""

    def __init__(self) -> None:
        self._shown: set[tuple[str, str, str]] = set()

    def show(self, groups: Sequence[GroupLag]) -> None:
        lags = {(g.group, p.topic, str(p.partition)): p.lag for g in groups for p in g.partitions}
        for gone in self._shown - lags.keys():
            GROUP_LAG.remove(*gone)
        for labels, lag in lags.items():
            GROUP_LAG.labels(*labels).set(lag)
        self._shown = set(lags)


def gauges(db: Database, kafka: OpsKafka, *, every_seconds: float, timeout: float) -> Periodic:
    """Counts the open cases (also right after a run or a resolution) and reads the groups' lag from the
    brokers, every `every_seconds`."""
    lag = LagGauge()

    async def refresh() -> None:
        async with db.connection() as conn:
            open_cases(await repository.count_open_cases(conn))
        groups = await asyncio.wait_for(
            asyncio.to_thread(kafka.group_lag, CONTRACT_GROUPS, timeout=timeout), timeout * 3
        )
        lag.show(groups)

    return Periodic("ops-metrics", refresh, every_seconds=every_seconds)
