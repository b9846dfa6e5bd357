"""`make bench`: drive payments through the BFF of a running platform and print figures.

Open-model load: payments are offered at a fixed rate over many customers and do not wait for each other.
Each payment's create latency (POST → 202) and end-to-end time until the read model says COMPLETED are
measured; completion is watched with one batched query every 5 ms (50 ms once 100 payments are in flight),
so watching adds almost no load. A payment that ends FAILED is counted apart (it is not a completion).
Several rates run in a row, after an unmeasured warm-up, to find the knee. "completed/s" counts the
completions within the offered load's window; past saturation the queue drains after it, and the line
below says when the last one completed and the rate over the whole run (the platform's capacity then).

Customers: enough that none makes more than `PER_CUSTOMER` payments in the run: Anti-Fraud denies a
customer's 101st payment within an hour (ANTIFRAUD_VELOCITY_MAX_COUNT), and a bench that reused 50 customers
at 100/s measured the velocity rule, not the platform.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import uvloop

from paysaga.contracts.banking import with_control_key
from paysaga.devstack import bench_cpu
from paysaga.platform.http_client import HttpClient, HttpTransportError
from paysaga.platform.settings import PlatformSettings, service_database_url

BIC = "044525225"
PASSWORD = "bench-password-42"
WATCH_FINE_BELOW = 100  # payments in flight under which completions are looked for every 5 ms
PER_CUSTOMER = 80  # payments per customer at most (Anti-Fraud's velocity limit is 100 an hour)


@dataclass
class Run:
    rate: float
    duration: float
    created: dict[str, float] = field(default_factory=dict)  # paymentId -> submit time
    create_ms: list[float] = field(default_factory=list)
    e2e_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)  # answer (status or "transport") -> count
    failed: int = 0  # ended FAILED
    completed_at: list[float] = field(default_factory=list)
    drain_until: float = float("inf")  # set when the offered load ends


def customers_needed(rates: list[float], duration: float, warmup_payments: float) -> int:
    """Customers enough that none makes more than PER_CUSTOMER of the payments offered (50 at least)."""
    offered = warmup_payments + sum(rate * duration for rate in rates)
    return max(50, math.ceil(offered / PER_CUSTOMER))


def rate_over_run(start: float, completed_at: list[float]) -> tuple[float, float]:
    """(seconds from the start to the last completion, completions per second over them). Past
    saturation the payments queue up and many complete after the offered load ends: the completions
    within the load's window undercount what the platform did, this counts them all."""
    if not completed_at:
        return 0.0, 0.0
    span = max(completed_at) - start
    return span, len(completed_at) / span if span > 0 else 0.0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def make_customers(client: HttpClient, count: int, balance: int) -> list[dict[str, str]]:
    async def one(i: int) -> dict[str, str]:
        email = f"bench-{uuid.uuid4().hex[:12]}@example.org"
        body = {"email": email, "password": PASSWORD, "name": f"Bench {i}", "phone": "+79161234567", "currency": "RUB"}
        (await client.post("/api/v1/auth/register", json=body)).raise_for_status()
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        token = login.json()["accessToken"]
        auth = {"Authorization": f"Bearer {token}"}
        for _ in range(200):
            if (await client.get("/api/v1/wallet", headers=auth)).status_code == 200:
                break
            await asyncio.sleep(0.05)
        top_up = await client.post(
            "/api/v1/wallet/top-ups", json={"amount": balance}, headers={**auth, "Idempotency-Key": str(uuid.uuid4())}
        )
        top_up.raise_for_status()
        return auth

    sem = asyncio.Semaphore(8)

    async def guarded(i: int) -> dict[str, str]:
        async with sem:
            return await one(i)

    return list(await asyncio.gather(*(guarded(i) for i in range(count))))


async def watch(run: Run, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
    while True:
        pending = list(run.created)
        if pending:
            rows = await conn.fetch(
                "SELECT payment_id::text, status FROM payments_view WHERE status IN ('COMPLETED', 'FAILED')"
                " AND payment_id = ANY($1::uuid[])",
                pending,
            )
            now = time.perf_counter()
            for r in rows:
                started = run.created.pop(r["payment_id"], None)
                if started is not None and r["status"] == "FAILED":
                    run.failed += 1
                elif started is not None:
                    run.e2e_ms.append((now - started) * 1000)
                    run.completed_at.append(now)
        if stop.is_set() and (not run.created or time.perf_counter() > run.drain_until):
            break
        # Every 5 ms while few payments are in flight; past saturation hundreds are, and looking them all
        # up 200 times a second took the CPU the platform was short of (the load generator's cost per
        # payment doubled): then every 50 ms, when end-to-end times are seconds anyway.
        await asyncio.sleep(0.005 if len(pending) < WATCH_FINE_BELOW else 0.05)


async def offer(run: Run, client: HttpClient, customers: list[dict[str, str]], amount: int) -> None:
    interval = 1.0 / run.rate
    start = time.perf_counter()
    total = int(run.rate * run.duration)
    tasks = []

    async def one(i: int) -> None:
        auth = customers[i % len(customers)]
        account = with_control_key(f"40817810{0}{i % 10**11:011d}", BIC)
        body = {
            "amount": amount,
            "currency": "RUB",
            "recipient": {"accountNumber": account, "bankBic": BIC, "name": "Bench Recipient"},
        }
        t0 = time.perf_counter()
        try:
            response = await client.post(
                "/api/v1/payments", json=body, headers={**auth, "Idempotency-Key": str(uuid.uuid4())}
            )
        except HttpTransportError:
            run.errors["transport"] += 1
            return
        t1 = time.perf_counter()
        if response.status_code == 202:
            run.create_ms.append((t1 - t0) * 1000)
            run.created[response.json()["paymentId"]] = t0
        else:
            run.errors[str(response.status_code)] += 1

    for i in range(total):
        target = start + i * interval
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)


async def main(args: argparse.Namespace) -> None:
    platform = PlatformSettings()
    query_dsn = os.environ.get("QUERY_DATABASE_URL") or service_database_url(platform.paysaga_postgres_url, "query")
    # No pool limit and no separate connect timeout: every offered request is sent, none shed here.
    client = HttpClient(args.bff, timeout=60, connect_timeout=60, max_connections=0)
    watching = await asyncpg.connect(query_dsn)
    # Its backend is the load generator's, not the Query service's, in the CPU table.
    load_generator = frozenset({int(await watching.fetchval("SELECT pg_backend_pid()"))})
    try:
        count = args.customers or customers_needed(args.rates, args.duration, args.warmup * args.warmup_rate)
        print(f"setting up {count} customers…", flush=True)
        customers = await make_customers(client, count, balance=100_000_000_000)
        if args.warmup > 0:
            # The JVM compiles Kafka's hot paths and every cache fills: not part of any figure.
            print(f"warming up: {args.warmup:.0f} s at {args.warmup_rate:.0f}/s…", flush=True)
            warm = Run(rate=args.warmup_rate, duration=args.warmup)
            await offer(warm, client, customers, amount=100)
            await asyncio.sleep(args.pause)
        print(
            f"{'offered/s':>9} {'create p50/p95/p99 ms':>24} {'e2e p50/p95/p99 ms':>24} "
            f"{'completed/s':>11} {'unfinished':>10} {'failed':>6} {'errors':>6}",
            flush=True,
        )
        for rate in args.rates:
            run = Run(rate=rate, duration=args.duration)
            stop = asyncio.Event()
            watcher = asyncio.create_task(watch(run, watching, stop))
            cpu_before = bench_cpu.sample(args.state_dir, load_generator)
            t0 = time.perf_counter()
            await offer(run, client, customers, amount=100)
            run.drain_until = time.perf_counter() + args.drain
            stop.set()
            await watcher
            cpu_after = bench_cpu.sample(args.state_dir, load_generator)
            window = [t for t in run.completed_at if t - t0 <= args.duration]
            sustained = len(window) / args.duration
            errors = sum(run.errors.values())
            print(
                f"{rate:>9.0f} {pct(run.create_ms, 50):>8.1f}/{pct(run.create_ms, 95):.1f}/{pct(run.create_ms, 99):.1f}"
                f" {pct(run.e2e_ms, 50):>10.1f}/{pct(run.e2e_ms, 95):.1f}/{pct(run.e2e_ms, 99):.1f}"
                f" {sustained:>11.1f} {len(run.created):>10} {run.failed:>6} {errors:>6}",
                flush=True,
            )
            if run.errors:
                print(" " * 10 + "errors: " + ", ".join(f"{a}: {n}" for a, n in sorted(run.errors.items())), flush=True)
            if run.e2e_ms:
                span, overall = rate_over_run(t0, run.completed_at)
                print(
                    f"          completed {len(run.e2e_ms)} of {len(run.e2e_ms) + run.failed + len(run.created)},"
                    f" the last {span:.1f} s after the start ({overall:.1f}/s over the run);"
                    f" mean e2e {statistics.mean(run.e2e_ms):.1f} ms",
                    flush=True,
                )
            for line in bench_cpu.table(cpu_before, cpu_after, len(run.e2e_ms)):
                print(" " * 10 + line, flush=True)
            await asyncio.sleep(args.pause)
    finally:
        await client.close()
        await watching.close()
    memory = bench_cpu.platform_pss_mib(args.state_dir, load_generator)
    print(f"platform memory (PSS, every process of the platform): {memory:.0f} MiB", flush=True)


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="paysaga bench", description=__doc__)
    parser.add_argument("--bff", default="http://127.0.0.1:8000")
    parser.add_argument(
        "--rates", type=float, nargs="+", default=[10, 20, 25, 30, 40], help="offered payments/s, one run each"
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of offered load per rate")
    parser.add_argument(
        "--drain", type=float, default=60.0, help="seconds at most to wait for the payments still in flight"
    )
    parser.add_argument("--pause", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds of unmeasured load first")
    parser.add_argument("--warmup-rate", type=float, default=10.0)
    parser.add_argument(
        "--customers",
        type=int,
        default=0,
        help=f"0: enough that none pays more than {PER_CUSTOMER} times (50 at least)",
    )
    parser.add_argument("--state-dir", default=os.path.abspath(os.environ.get("PAYSAGA_STATE_DIR", ".local")))
    uvloop.run(main(parser.parse_args(argv)))


if __name__ == "__main__":
    cli()
