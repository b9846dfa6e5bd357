"""Abuse limits of every HTTP service (SPEC §11): request body size (413) and load shedding (503)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from fastapi import Request

from paysaga.platform.assembly import build_service
from paysaga.platform.http import HttpLimits, create_app
from paysaga.platform.problems import PROBLEM_MEDIA_TYPE
from paysaga.platform.settings import PlatformSettings, ServiceSettings

MIB = 1 << 20


def _app(limits: HttpLimits | None = None):  # type: ignore[no-untyped-def]
    app = create_app(title="t", description="t", limits=limits)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


def _client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_body_over_its_content_length_limit_is_refused_with_413_before_it_is_read() -> None:
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(160):
            pulled += 64 * 1024
            yield b"x" * (64 * 1024)

    async with _client(_app()) as client:
        response = await client.post("/echo", content=body(), headers={"Content-Length": str(10 * MIB)})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["type"] == "/problems/body-too-large"
    assert pulled <= 64 * 1024  # the transport primes at most one chunk; the app read nothing


async def test_a_streamed_body_is_counted_and_not_read_on_past_the_limit() -> None:
    pulled = 0

    async def body() -> AsyncIterator[bytes]:  # chunked: no Content-Length
        nonlocal pulled
        for _ in range(160):
            pulled += 64 * 1024
            yield b"x" * (64 * 1024)

    async with _client(_app()) as client:
        response = await client.post("/echo", content=body())
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/body-too-large"
    assert pulled <= MIB + 2 * 64 * 1024  # stopped just past 1 MiB, far from the 10 MiB sent


async def test_a_body_within_the_limit_is_served() -> None:
    async with _client(_app()) as client:
        response = await client.post("/echo", content=b"x" * MIB)
        streamed = await client.post("/echo", content=_chunks(16, 1024))
    assert response.status_code == 200 and response.json() == {"bytes": MIB}
    assert streamed.status_code == 200 and streamed.json() == {"bytes": 16 * 1024}


async def _chunks(n: int, size: int) -> AsyncIterator[bytes]:
    for _ in range(n):
        yield b"y" * size


def test_the_service_settings_set_the_limits() -> None:
    app = _app()
    settings = ServiceSettings(max_body_bytes=1234, max_concurrent_requests=7)
    build_service("t", settings, app, platform=PlatformSettings())
    assert app.state.http_limits == HttpLimits(max_body_bytes=1234, max_concurrent_requests=7)


async def test_requests_over_the_in_flight_limit_are_shed_at_once_and_health_is_never_shed() -> None:
    app = _app(HttpLimits(max_concurrent_requests=3))
    release = asyncio.Event()
    entered = 0

    @app.get("/hold")
    async def hold() -> dict[str, str]:
        nonlocal entered
        entered += 1
        await release.wait()
        return {"status": "done"}

    async with _client(app) as client:
        held = [asyncio.create_task(client.get("/hold")) for _ in range(3)]
        while entered < 3:
            await asyncio.sleep(0)
        shed = await client.get("/hold")
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        release.set()
        done = await asyncio.gather(*held)
        after = await client.get("/hold")
    assert shed.status_code == 503
    assert shed.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert shed.json()["type"] == "/problems/overloaded"
    assert 1 <= int(shed.headers["retry-after"]) <= 3
    assert health.status_code == 200 and ready.status_code == 200
    assert [r.status_code for r in done] == [200, 200, 200]
    assert after.status_code == 200  # the slots were given back
