"""Operators' login throttling: per client address (every login) and per account (failed logins),
in fixed windows counted in the Ops database, shared by every Ops instance. Over a limit: 429 with
`Retry-After` (the seconds until the window ends)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from paysaga.platform.db import Database
from paysaga.platform.periodic import Periodic
from paysaga.platform.problems import Problem
from paysaga.services.ops import repository
from paysaga.services.ops.domain import normalize_email

log = structlog.get_logger("paysaga.ops")

ADDRESS = "address"
ACCOUNT_FAILURES = "login-failures"


@dataclass(frozen=True)
class LoginLimits:
    address_requests: int = 30
    address_window_seconds: int = 60
    account_failures: int = 5
    account_window_seconds: int = 900


def too_many(detail: str, retry_after: int) -> Problem:
    return Problem(429, "too-many-requests", "Too many requests", detail, headers={"Retry-After": str(retry_after)})


class LoginThrottle:
    def __init__(self, db: Database, limits: LoginLimits) -> None:
        self._db = db
        self.limits = limits

    async def before_login(self, address: str | None, email: str) -> None:
        """Count the attempt from its address; 429 past the address's limit, or while the account
        has had too many failed logins in its window."""
        async with self._db.connection() as conn:
            if address:
                window = await repository.count_hit(conn, ADDRESS, address, self.limits.address_window_seconds)
                if window.hits > self.limits.address_requests:
                    log.warning("ops.login_throttled", scope=ADDRESS, address=address)
                    raise too_many("Too many login requests from this address.", window.ends_in)
            failures = await repository.current_hits(
                conn, ACCOUNT_FAILURES, normalize_email(email), self.limits.account_window_seconds
            )
        if failures is not None and failures.hits >= self.limits.account_failures:
            log.warning("ops.login_throttled", scope=ACCOUNT_FAILURES)
            raise too_many("Too many failed logins for this account; retry later.", failures.ends_in)

    async def failed(self, email: str) -> None:
        async with self._db.connection() as conn:
            await repository.count_hit(
                conn, ACCOUNT_FAILURES, normalize_email(email), self.limits.account_window_seconds
            )

    async def succeeded(self, email: str) -> None:
        async with self._db.connection() as conn:
            await repository.reset_hits(conn, ACCOUNT_FAILURES, normalize_email(email))

    async def purge(self) -> int:
        async with self._db.connection() as conn:
            return await repository.purge_throttle(conn)


def purger(throttle: LoginThrottle, db: Database, *, key_retention_seconds: float) -> Periodic:
    """The worker that deletes ended throttle windows and expired Idempotency-Keys."""

    async def purge() -> None:
        windows = await throttle.purge()
        async with db.connection() as conn:
            keys = await repository.purge_keys(conn, key_retention_seconds)
        if windows or keys:
            log.info("ops.purged", throttle_windows=windows, idempotency_keys=keys)

    return Periodic("ops-purge", purge, every_seconds=300)
