"""The DWH's HTTP API: health, readiness and the headline numbers of the views."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from paysaga.contracts.identities import OPS
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.problems import Problem
from paysaga.platform.service_auth import callers
from paysaga.services.dwh.schemas import Summary
from paysaga.services.dwh.store import DwhStore, DwhUnavailable

OPERATORS = callers(OPS)


def build_app(store: DwhStore, readiness: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_app(
        title="PaySaga DWH",
        description="Analytics store (DuckDB) fed from every topic: raw events written exactly once, "
        "one row per payment saga, daily volumes and failure reasons.",
        readiness=readiness,
    )

    @app.get(
        "/v1/summary", response_model=Summary, summary="Headline numbers of the DWH's views", dependencies=[OPERATORS]
    )
    async def summary() -> Summary:
        try:
            return await asyncio.to_thread(store.summary)
        except DwhUnavailable as exc:
            raise Problem(503, "service-unavailable", "DWH busy", str(exc), headers={"Retry-After": "1"}) from exc

    return app


def duckdb_check(store: DwhStore) -> ReadinessCheck:
    async def check() -> None:
        await asyncio.to_thread(store.ping)

    return check
