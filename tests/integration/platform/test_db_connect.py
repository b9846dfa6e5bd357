"""A service whose PostgreSQL is not up yet (refusing, or "the database system is starting up")
waits for it with backoff instead of exiting; a server that never comes is given up on in time."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import structlog

from paysaga.platform.db import Database
from paysaga.platform.runtime import connect_with_retry

pytestmark = pytest.mark.integration

SSL_REQUEST = 80877103
# An ErrorResponse's fields, as PostgreSQL sends them while it recovers.
STARTING_UP = b"SFATAL\x00VFATAL\x00C57P03\x00Mthe database system is starting up\x00\x00"


def _with_port(dsn: str, port: int) -> str:
    parts = urlsplit(dsn)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


class Recovering:
    """A port that first refuses connections, then answers like a PostgreSQL still recovering,
    then forwards to the real server."""

    def __init__(self, real_host: str, real_port: int) -> None:
        self.real = (real_host, real_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        self.port = self.sock.getsockname()[1]
        self.starting_up = True
        self.refused_until_listening = True
        self.answered_starting_up = 0
        self._server: asyncio.Server | None = None

    async def listen(self) -> None:
        self.sock.listen(16)
        self.sock.setblocking(False)
        self._server = await asyncio.start_server(self._handle, sock=self.sock)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        else:
            self.sock.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.starting_up:
                await self._refuse(reader, writer)
            else:
                await self._forward(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        length, code = struct.unpack("!II", await reader.readexactly(8))
        if length == 8 and code == SSL_REQUEST:
            writer.write(b"N")  # no TLS here; the startup message follows
            await writer.drain()
            length, code = struct.unpack("!II", await reader.readexactly(8))
        await reader.readexactly(length - 8)
        writer.write(b"E" + struct.pack("!I", 4 + len(STARTING_UP)) + STARTING_UP)
        await writer.drain()
        self.answered_starting_up += 1

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.real)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
async def recovering(platform_dsn: str) -> AsyncIterator[Recovering]:
    real = urlsplit(platform_dsn)
    assert real.hostname is not None and real.port is not None
    server = Recovering(real.hostname, real.port)
    yield server
    await server.close()


async def test_a_database_that_refuses_then_is_starting_up_then_works_is_waited_for(
    recovering: Recovering, platform_dsn: str
) -> None:
    db = Database(_with_port(platform_dsn, recovering.port), min_size=1, max_size=2)

    async def recover() -> None:
        await asyncio.sleep(0.5)  # refused meanwhile
        await recovering.listen()  # now "the database system is starting up"
        while recovering.answered_starting_up < 2:
            await asyncio.sleep(0.02)
        recovering.starting_up = False  # recovered

    with structlog.testing.capture_logs() as logs:
        recovery = asyncio.create_task(recover())
        started = time.monotonic()
        connected = await asyncio.wait_for(connect_with_retry(db, timeout=30, initial=0.05, maximum=0.2), timeout=40)
        await recovery
    try:
        assert connected
        assert await db.pool.fetchval("SELECT 1") == 1
    finally:
        await db.close()
    assert time.monotonic() - started < 30
    retries = [e for e in logs if e["event"] == "db.connect_retry"]
    errors = " ".join(e["error"] for e in retries)
    assert "ConnectionRefusedError" in errors or "Connect call failed" in errors
    assert "CannotConnectNowError" in errors
    assert recovering.answered_starting_up >= 2


async def test_a_database_that_never_comes_is_given_up_on_after_the_timeout(
    recovering: Recovering, platform_dsn: str
) -> None:
    db = Database(_with_port(platform_dsn, recovering.port), min_size=1, max_size=2)
    await recovering.listen()  # starting up for ever
    started = time.monotonic()
    with pytest.raises(asyncpg.CannotConnectNowError):
        await connect_with_retry(db, timeout=1.0, initial=0.05, maximum=0.2)
    assert 1.0 <= time.monotonic() - started < 10


async def test_a_stop_while_waiting_returns_without_a_connection(recovering: Recovering, platform_dsn: str) -> None:
    db = Database(_with_port(platform_dsn, recovering.port), min_size=1, max_size=2)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.3, stop.set)
    assert await connect_with_retry(db, timeout=30, initial=0.05, maximum=0.2, stop=stop) is False
    with pytest.raises(RuntimeError):
        _ = db.pool
