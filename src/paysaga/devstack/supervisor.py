"""A small process supervisor for the local platform.

Each child runs in its own session (a Ctrl-C reaches only the supervisor, which then stops
the children in reverse start order: services, then Kafka, then PostgreSQL) and dies with the
supervisor even on a `kill -9` (PR_SET_PDEATHSIG). Output is prefixed with the child's name.
A child that exits unexpectedly is restarted with exponential backoff (1 s doubling to 30 s,
reset after 60 s of running), and each restart is logged.
honcho/foreman do not restart crashed children and supervisord does not multiplex prefixed
output to a terminal, hence this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_COLORS = ["36", "33", "32", "35", "34", "31", "96", "93", "92", "95", "94"]
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when its parent dies, even by SIGKILL."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 15.0
    restart: bool = True


class _Child:
    def __init__(self, spec: ProcessSpec, color: str) -> None:
        self.spec = spec
        self.color = color
        self.proc: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self.watcher: asyncio.Task[None] | None = None


class Supervisor:
    def __init__(self, *, out: Callable[[str], None] | None = None) -> None:
        self._children: list[_Child] = []
        self._stopping = False
        self._tty = sys.stdout.isatty()
        self._out = out or (lambda line: print(line, flush=True))

    def log(self, name: str, message: str, color: str = "1") -> None:
        prefix = f"{name:>18} |"
        if self._tty:
            prefix = f"\033[{color}m{prefix}\033[0m"
        self._out(f"{prefix} {message}")

    async def start(self, spec: ProcessSpec) -> None:
        child = _Child(spec, _COLORS[len(self._children) % len(_COLORS)])
        self._children.append(child)
        await self._spawn(child)
        child.watcher = asyncio.create_task(self._watch(child))

    async def _spawn(self, child: _Child) -> None:
        spec = child.spec
        child.proc = await asyncio.create_subprocess_exec(
            *spec.argv,
            env={**os.environ, **spec.env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
            user=spec.user,
        )
        self.log(spec.name, f"started (pid {child.proc.pid})", child.color)

    async def _pump(self, child: _Child) -> None:
        assert child.proc is not None and child.proc.stdout is not None
        while line := await child.proc.stdout.readline():
            self.log(child.spec.name, line.decode(errors="replace").rstrip(), child.color)

    async def _watch(self, child: _Child) -> None:
        backoff = 1.0
        while True:
            started = time.monotonic()
            assert child.proc is not None
            await self._pump(child)
            code = await child.proc.wait()
            if self._stopping:
                return
            if not child.spec.restart:
                self.log(child.spec.name, f"exited with code {code}", child.color)
                return
            if time.monotonic() - started > 60:
                backoff = 1.0
            child.restarts += 1
            self.log(
                child.spec.name,
                f"CRASHED with exit code {code}; restart #{child.restarts} in {backoff:.0f} s",
                child.color,
            )
            await asyncio.sleep(backoff)
            if self._stopping:
                return
            backoff = min(backoff * 2, 30.0)
            await self._spawn(child)

    async def stop_all(self) -> None:
        """Stop every child in reverse start order: signal, wait, then kill."""
        self._stopping = True
        for child in reversed(self._children):
            proc = child.proc
            if proc is None or proc.returncode is not None:
                continue
            self.log(child.spec.name, "stopping", child.color)
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(child.spec.stop_signal)
            try:
                await asyncio.wait_for(proc.wait(), child.spec.stop_timeout)
            except TimeoutError:
                self.log(child.spec.name, "did not stop in time: killed", child.color)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for child in self._children:
            if child.watcher is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(child.watcher, 5)
