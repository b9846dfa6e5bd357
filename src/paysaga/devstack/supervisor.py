"""A small process supervisor for the local platform: prefixed output, restarts and health probes.

Each child runs in its own session, so a Ctrl-C reaches only the supervisor, which stops the children in
reverse start order (services, then Kafka, then PostgreSQL); PR_SET_PDEATHSIG makes them die with it even on a
`kill -9`. A child that exits, or that its probe finds stuck, is restarted with backoff; one that answers
"alive but not ready" (a service whose Kafka is down) is only logged: restarting it would not bring the
dependency back.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

_COLORS = ["36", "33", "32", "35", "34", "31", "96", "93", "92", "95", "94"]
_PR_SET_PDEATHSIG = 1

Probe = Callable[[], Awaitable[str | None]]
"""Raises when the process does not answer; returns None when it is ready, or a short text
saying what it is waiting for (it answers, so it is alive)."""


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when its parent dies, even by SIGKILL."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass(frozen=True)
class Health:
    probe: Probe
    start_timeout: float = 90.0  # must answer a probe this soon after each start
    interval: float = 2.0  # between probes once it answered
    probe_timeout: float = 5.0  # one probe's limit
    failures: int = 3  # consecutive failed probes that make it stuck


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 15.0
    restart: bool = True
    health: Health | None = None
    # Children of one group (adjacent in start order) are stopped together: the nodes of a Kafka
    # cluster (one by one, the last would wait for a controller quorum that is gone), a service's instances.
    stop_group: str | None = None


class _Child:
    def __init__(self, spec: ProcessSpec, color: str) -> None:
        self.spec = spec
        self.color = color
        self.proc: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self.state = "starting"  # starting | healthy | not-ready | unhealthy | ending | exited
        self.detail: str | None = None
        self.ended_because: str | None = None  # set when the supervisor ended it
        self.alive = asyncio.Event()  # the probe answered since the last start
        self.watcher: asyncio.Task[None] | None = None
        self.monitor: asyncio.Task[None] | None = None


# The supervisor's own event loop running this late (a host short of CPU: every process, the
# supervisor included, waits for a core) makes every probe look failed at once. Ending children then
# would only add restarts to the overload: a probe that fails while the loop was this late is not counted.
STARVED_LAG_SECONDS = 1.0
HEARTBEAT_SECONDS = 0.25


class Supervisor:
    def __init__(self, *, out: Callable[[str], None] | None = None, status_file: Path | None = None) -> None:
        self._children: list[_Child] = []
        self._stopping = False
        self._late_at: list[tuple[float, float]] = []  # (when, seconds late) of the loop's recent late wake-ups
        self._heartbeat: asyncio.Task[None] | None = None
        self._tty = sys.stdout.isatty()
        self._out = out or (lambda line: print(line, flush=True))
        self._status_file = status_file

    def log(self, name: str, message: str, color: str = "1") -> None:
        prefix = f"{name:>18} |"
        if self._tty:
            prefix = f"\033[{color}m{prefix}\033[0m"
        self._out(f"{prefix} {message}")

    def pid(self, name: str) -> int | None:
        child = self._child(name)
        return child.proc.pid if child.proc is not None and child.proc.returncode is None else None

    def restarts(self, name: str) -> int:
        return self._child(name).restarts

    async def _beat(self) -> None:
        """Notes when the supervisor's own loop wakes up late (see STARVED_LAG_SECONDS)."""
        while True:
            before = time.monotonic()
            await asyncio.sleep(HEARTBEAT_SECONDS)
            late = time.monotonic() - before - HEARTBEAT_SECONDS
            if late >= STARVED_LAG_SECONDS:
                self._late_at = [(t, x) for t, x in self._late_at if t > before - 60] + [(time.monotonic(), late)]

    def starved_since(self, since: float) -> float:
        """How late the supervisor's loop woke up at worst since `since` (0: on time)."""
        return max((late for at, late in self._late_at if at >= since), default=0.0)

    async def start(self, spec: ProcessSpec) -> None:
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat())
        child = _Child(spec, _COLORS[len(self._children) % len(_COLORS)])
        self._children.append(child)
        await self._spawn(child)
        child.watcher = asyncio.create_task(self._watch(child))

    async def wait_alive(self, name: str, timeout: float) -> None:
        """Until the child's probe has answered since its last start (TimeoutError otherwise)."""
        child = self._child(name)
        try:
            await asyncio.wait_for(child.alive.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"{name} did not answer its health probe within {timeout:.0f} s") from None

    def _child(self, name: str) -> _Child:
        return next(c for c in self._children if c.spec.name == name)

    async def _spawn(self, child: _Child) -> None:
        spec = child.spec
        child.ended_because = None
        child.alive.clear()
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
        self._set_state(child, "starting")
        self.log(spec.name, f"started (pid {child.proc.pid})", child.color)
        if spec.health is not None:
            child.monitor = asyncio.create_task(self._monitor(child, spec.health, child.proc))

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
            if child.monitor is not None:
                child.monitor.cancel()
            if self._stopping:
                return
            self._set_state(child, "exited", f"exit code {code}")
            if not child.spec.restart:
                self.log(child.spec.name, f"exited with code {code}", child.color)
                return
            if time.monotonic() - started > 60:
                backoff = 1.0
            child.restarts += 1
            why = f"ended by the supervisor ({child.ended_because})" if child.ended_because else "CRASHED"
            self.log(
                child.spec.name,
                f"{why} with exit code {code}; restart #{child.restarts} in {backoff:.0f} s",
                child.color,
            )
            await asyncio.sleep(backoff)
            if self._stopping:
                return
            backoff = min(backoff * 2, 30.0)
            await self._spawn(child)

    async def _probe(self, health: Health) -> tuple[bool, str | None]:
        """(answered, what it waits for)."""
        try:
            return True, await asyncio.wait_for(health.probe(), health.probe_timeout)
        except TimeoutError:
            return False, f"no answer within {health.probe_timeout:g} s"
        except Exception as exc:  # any failure to answer counts: refused, timed out, garbled
            return False, (str(exc) or type(exc).__name__)[:200]

    async def _monitor(self, child: _Child, health: Health, proc: asyncio.subprocess.Process) -> None:
        """Probe one run of the child; end it when it never answers or stops answering."""
        name, started = child.spec.name, time.monotonic()
        while True:
            answered, detail = await self._probe(health)
            if answered:
                break
            if time.monotonic() - started > health.start_timeout:
                await self._end(child, proc, f"no answer to its health probe {health.start_timeout:.0f} s after start")
                return
            await asyncio.sleep(0.5)
        child.alive.set()
        waiting = f"; not ready: {detail}" if detail else ""
        self.log(name, f"answering after {time.monotonic() - started:.1f} s{waiting}", child.color)
        failed = 0
        while True:
            self._set_state(child, "not-ready" if detail else "healthy", detail)
            await asyncio.sleep(health.interval)
            previous = child.detail
            asked = time.monotonic()
            answered, detail = await self._probe(health)
            if not answered and (late := self.starved_since(asked - health.interval)) > 0:
                self.log(name, f"health probe failed ({detail}) while the supervisor ran {late:.1f} s late: the host "
                         "is short of CPU, not counted", child.color)  # fmt: skip
                continue
            if answered:
                if failed:
                    self.log(name, f"answering again after {failed} failed probe(s)", child.color)
                failed = 0
                if detail != previous:
                    self.log(name, f"not ready: {detail}" if detail else "ready", child.color)
                continue
            failed += 1
            self.log(name, f"health probe failed ({failed}/{health.failures}): {detail}", child.color)
            self._set_state(child, "unhealthy", detail)
            if failed >= health.failures:
                await self._end(child, proc, f"{failed} health probes failed in a row")
                return

    async def _end(self, child: _Child, proc: asyncio.subprocess.Process, reason: str) -> None:
        """Stop a stuck child: its stop signal (and SIGCONT, for a stopped one), then SIGKILL."""
        if self._stopping or proc.returncode is not None:
            return
        child.ended_because = reason
        self._set_state(child, "ending", reason)
        self.log(child.spec.name, f"STUCK: {reason}; ending it", child.color)
        await self._terminate(child, proc)

    async def _terminate(self, child: _Child, proc: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(child.spec.stop_signal)
            proc.send_signal(signal.SIGCONT)
        try:
            await asyncio.wait_for(proc.wait(), child.spec.stop_timeout)
        except TimeoutError:
            self.log(child.spec.name, f"did not stop within {child.spec.stop_timeout:.0f} s: killed", child.color)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    def _set_state(self, child: _Child, state: str, detail: str | None = None) -> None:
        if (child.state, child.detail) == (state, detail):
            return
        child.state, child.detail = state, detail
        self._write_status()

    def _write_status(self) -> None:
        """Each child's pid, state and restarts, for operators and tests (`<state>/supervisor.json`)."""
        if self._status_file is None:
            return
        status = {
            c.spec.name: {
                "pid": c.proc.pid if c.proc is not None else None,
                "state": c.state,
                "detail": c.detail,
                "restarts": c.restarts,
            }
            for c in self._children
        }
        tmp = self._status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(status, indent=2))
        tmp.replace(self._status_file)

    async def stop_all(self) -> None:
        """Stop every child in reverse start order: signal, wait, then kill."""
        self._stopping = True
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        for child in self._children:
            if child.monitor is not None:
                child.monitor.cancel()
        batches: list[list[_Child]] = []
        for child in reversed(self._children):
            if (
                batches
                and child.spec.stop_group is not None
                and batches[-1][0].spec.stop_group == child.spec.stop_group
            ):
                batches[-1].append(child)
            else:
                batches.append([child])
        for batch in batches:
            running = [(c, c.proc) for c in batch if c.proc is not None and c.proc.returncode is None]
            for child, _ in running:
                self.log(child.spec.name, "stopping", child.color)
            await asyncio.gather(*(self._terminate(child, proc) for child, proc in running))
        for child in self._children:
            if child.watcher is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(child.watcher, 5)
        if self._status_file is not None:
            self._status_file.unlink(missing_ok=True)
