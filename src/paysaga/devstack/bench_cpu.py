"""CPU per completed payment, per process group, read from /proc for `make bench`.

The processes are those of the `paysaga run` platform of a state directory (the pids its supervisor.json
names). A PostgreSQL backend is charged to the service whose database it serves (its process title names
the database), so each service's row shows its own process and the database work it causes; the
postmaster and its background processes (WAL writer, checkpointer, autovacuum) are a row of their own.
Several instances of a service (or nodes of Kafka) are one group. The provider simulator (it stands in
for a bank outside the platform) and the load generator (this process and the PostgreSQL backend that
watches completions for it) are shown apart and are not in the platform's total.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")

OUTSIDE = ("provider_sim", "load generator")  # shown, but not the platform's cost
INFRASTRUCTURE = ("postgres (shared)", "kafka", "zipkin", "prometheus", "supervisor")


@dataclass(frozen=True, slots=True)
class _Stat:
    ppid: int
    started: int  # clock ticks after boot: with the pid, names one process even if pids are reused
    seconds: float  # user + system, with those of the children it reaped


def _stat(pid: int) -> _Stat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # from field 3 (state) on: ppid 4, utime..cstime 14..17
    return _Stat(int(fields[1]), int(fields[19]), sum(int(f) for f in fields[11:15]) / _TICKS)


def group_of(process: str) -> str:
    """The group of a supervised process: its name without an instance number."""
    return re.sub(r"-\d+$", "", process)


def _backend_database(pid: int) -> str | None:
    """The database a PostgreSQL backend serves, from its title `postgres: user database host state`."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return title[2] if len(title) >= 4 and title[0] == "postgres:" else None


@dataclass(frozen=True, slots=True)
class Sample:
    """CPU seconds so far of each process: (group, kind) by (pid, start time); kind is "process" or "db"."""

    processes: dict[tuple[int, int], tuple[str, str, float]]

    def platform_pids(self) -> list[int]:
        return [pid for (pid, _), (group, _, _) in self.processes.items() if group not in OUTSIDE]


def platform_pss_mib(state_dir: str, load_generator_pids: frozenset[int] = frozenset()) -> float:
    """Memory of the platform's processes (the provider simulator and the load generator not counted).

    Proportional set size (PSS), so pages shared between processes (PostgreSQL's shared buffers,
    shared libraries) count once in the sum rather than once per process.
    """
    total_kib = 0
    for pid in sample(state_dir, load_generator_pids).platform_pids():
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kib += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total_kib / 1024


def sample(state_dir: str, load_generator_pids: frozenset[int] = frozenset()) -> Sample:
    """Every process of the platform of `state_dir`, this process and `load_generator_pids` (the
    backends serving the load generator). Empty when no `paysaga run` keeps that state dir."""
    found: dict[tuple[int, int], tuple[str, str, float]] = {}
    mine = _stat(os.getpid())
    if mine is not None:
        found[(os.getpid(), mine.started)] = ("load generator", "process", mine.seconds)
    try:
        status = json.loads((Path(state_dir) / "supervisor.json").read_text())
    except (FileNotFoundError, ValueError):
        return Sample(found)
    # The instances of one service (`wallet-1`, `wallet-2`) and the nodes of a cluster (`kafka-1`…) are one group.
    names = {int(child["pid"]): group_of(name) for name, child in status.items() if child.get("pid")}
    supervisor = next((s.ppid for s in map(_stat, names) if s is not None), None)
    if supervisor is not None:
        names[supervisor] = "supervisor"
    postmaster = next((pid for pid, name in names.items() if name == "postgres"), None)
    databases = {f"paysaga_{name}": name for name in names.values()}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        pid = int(entry)
        stat = _stat(pid)
        if stat is None:
            continue
        key = (pid, stat.started)
        if pid in names:
            name = names[pid]
            found[key] = ("postgres (shared)" if name == "postgres" else name, "process", stat.seconds)
        elif stat.ppid == postmaster and postmaster is not None:
            if pid in load_generator_pids:
                found[key] = ("load generator", "db", stat.seconds)
                continue
            database = _backend_database(pid)
            group = databases.get(database or "", "postgres (shared)")
            found[key] = (group, "db" if group != "postgres (shared)" else "process", stat.seconds)
    return Sample(found)


def table(before: Sample, after: Sample, payments: int) -> list[str]:
    """Milliseconds of CPU per completed payment: each group's process(es) and its database backends,
    the platform's total, then what is not the platform's. A process that ended between the samples is
    not counted (a backend's CPU then shows in its postmaster's reaped children's time)."""
    if len(after.processes) <= 1 or payments == 0:
        return ["CPU per payment: n/a (no `paysaga run` state here, or nothing completed)"]
    used: dict[str, dict[str, float]] = {}
    for key, (group, kind, seconds) in after.processes.items():
        earlier = before.processes.get(key)
        delta = seconds - (earlier[2] if earlier else 0.0)
        used.setdefault(group, {"process": 0.0, "db": 0.0})[kind] += delta * 1000 / payments

    def row(name: str, cost: dict[str, float]) -> str:
        db = f"{cost['db']:>8.1f}" if cost["db"] else f"{'':>8}"
        return f"  {name:<24} {cost['process']:>8.1f} {db} {cost['process'] + cost['db']:>8.1f}"

    services = sorted(
        (g for g in used if g not in OUTSIDE and g not in INFRASTRUCTURE), key=lambda g: -sum(used[g].values())
    )
    platform = [g for g in (*services, *INFRASTRUCTURE) if g in used]
    total = {kind: sum(used[g][kind] for g in platform) for kind in ("process", "db")}
    lines = [f"CPU ms per completed payment ({payments} payments), from /proc:"]
    lines.append(f"  {'group':<24} {'process':>8} {'its PG':>8} {'total':>8}")
    lines += [row(g, used[g]) for g in platform]
    lines.append(row("= platform", total))
    lines += [row(f"{g} (apart)", used[g]) for g in OUTSIDE if g in used]
    return lines
