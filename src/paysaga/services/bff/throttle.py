"""Login and registration throttling (SPEC §11): per client address (every auth request) and per
account (failed logins), in fixed windows counted in the BFF's database, so that every BFF
instance shares them. Over a limit: 429 with `Retry-After` (the seconds until the window ends)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from paysaga.platform.db import Database
from paysaga.platform.periodic import Periodic
from paysaga.platform.problems import Problem
from paysaga.services.bff import repository

log = structlog.get_logger("paysaga.bff")

ADDRESS = "address"
ACCOUNT_FAILURES = "login-failures"


@dataclass(frozen=True)
class ThrottleLimits:
    address_requests: int = 30
    address_window_seconds: int = 60
    account_failures: int = 10
    account_window_seconds: int = 900


def too_many(detail: str, retry_after: int) -> Problem:
    return Problem(429, "too-many-requests", "Too many requests", detail, headers={"Retry-After": str(retry_after)})


def account_of(email: str) -> str:
    """The account an email names, as the Customer service compares them (case-insensitively)."""
    return email.strip().lower()


class AuthThrottle:
    def __init__(self, db: Database, limits: ThrottleLimits | None = None) -> None:
        self._db = db
        self.limits = limits or ThrottleLimits()

    async def address_request(self, address: str | None) -> None:
        """Count a login or registration request from the address; 429 past its limit."""
        if not address:
            return
        async with self._db.connection() as conn:
            window = await repository.count_hit(conn, ADDRESS, address, self.limits.address_window_seconds)
        if window.hits > self.limits.address_requests:
            log.warning("auth.throttled", scope=ADDRESS, address=address)
            raise too_many("Too many login or registration requests from this address.", window.ends_in)

    async def check_account(self, email: str) -> None:
        """429 when the account has had too many failed logins in the window."""
        async with self._db.connection() as conn:
            window = await repository.current_hits(
                conn, ACCOUNT_FAILURES, account_of(email), self.limits.account_window_seconds
            )
        if window is not None and window.hits >= self.limits.account_failures:
            log.warning("auth.throttled", scope=ACCOUNT_FAILURES)
            raise too_many("Too many failed logins for this account; retry later.", window.ends_in)

    async def login_failed(self, email: str) -> None:
        async with self._db.connection() as conn:
            await repository.count_hit(conn, ACCOUNT_FAILURES, account_of(email), self.limits.account_window_seconds)

    async def login_succeeded(self, email: str) -> None:
        """A successful login resets the account's failures."""
        async with self._db.connection() as conn:
            await repository.reset_hits(conn, ACCOUNT_FAILURES, account_of(email))

    async def purge(self) -> int:
        async with self._db.connection() as conn:
            return await repository.purge_throttle(conn)


def throttle_purger(throttle: AuthThrottle, *, every_seconds: float = 300) -> Periodic:
    """The worker that deletes the counters of ended windows."""

    async def purge() -> None:
        purged = await throttle.purge()
        if purged:
            log.info("auth.throttle_purged", counters=purged)

    return Periodic("auth-throttle-purge", purge, every_seconds=every_seconds)
