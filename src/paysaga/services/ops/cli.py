"""`paysaga operator ...`: operators' accounts in the Ops database (`create`, `disable`, `list`).

The database is `OPS_DATABASE_URL`, else `paysaga_ops` on `PAYSAGA_POSTGRES_URL` (the local
platform's cluster by default). The password is asked twice on the terminal, or read from stdin
with `--password-stdin` (for scripts), never taken from the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from paysaga.platform.assembly import service_database
from paysaga.platform.db import Database
from paysaga.platform.logging import configure_logging
from paysaga.platform.passwords import PasswordHashing
from paysaga.platform.settings import PlatformSettings
from paysaga.services.ops import handlers, repository
from paysaga.services.ops.domain import WeakPassword, check_password
from paysaga.services.ops.settings import OpsSettings

T = TypeVar("T")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (12+ characters, a letter and a digit): ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("paysaga operator: the passwords differ")
    return first


async def _with_db(action: Callable[[Database], Awaitable[T]]) -> T:
    db = service_database("ops", OpsSettings(db_pool_min=1, db_pool_max=2), PlatformSettings())
    try:
        await db.connect()
    except OSError as exc:
        raise SystemExit(f"paysaga operator: the Ops database is not reachable ({exc}); is `make run` up?") from exc
    try:
        return await action(db)
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="paysaga operator", description="Operators' accounts (the Ops service).")
    sub = parser.add_subparsers(dest="command", required=True)
    creating = sub.add_parser("create", help="create an operator account")
    creating.add_argument("--email", required=True)
    creating.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    disabling = sub.add_parser("disable", help="disable an operator account (its tokens stop working at once)")
    disabling.add_argument("--email", required=True)
    sub.add_parser("list", help="list the operator accounts")
    args = parser.parse_args(argv)
    configure_logging("ops", level="WARNING")  # to stderr: stdout says what was done

    if args.command == "create":
        password = _password(args.password_stdin)
        try:
            check_password(password)  # before connecting: a weak one is refused whatever the database
        except WeakPassword as exc:
            print(f"paysaga operator: {exc}", file=sys.stderr)
            return 2

        async def create(db: Database) -> str:
            hashing = PasswordHashing(workers=1, queue=0)
            try:
                return str(await handlers.create_operator(db, hashing, email=args.email, password=password))
            finally:
                await hashing.aclose()

        try:
            operator_id = asyncio.run(_with_db(create))
        except WeakPassword as exc:
            print(f"paysaga operator: {exc}", file=sys.stderr)
            return 2
        except repository.EmailTaken:
            print(f"paysaga operator: an operator with the email {args.email} exists", file=sys.stderr)
            return 1
        print(f"operator {operator_id} created for {args.email.strip()}")
        print("log in: POST /ops/v1/auth/login {email, password} on the Ops service (port 8011 by default)")
    elif args.command == "disable":

        async def disable(db: Database) -> str | None:
            found = await handlers.disable_operator(db, email=args.email)
            return str(found) if found else None

        disabled = asyncio.run(_with_db(disable))
        if disabled is None:
            print(f"paysaga operator: no operator {args.email}", file=sys.stderr)
            return 1
        print(f"operator {disabled} disabled")
    elif args.command == "list":

        async def listing(db: Database) -> list[repository.Operator]:
            async with db.connection() as conn:
                return await repository.list_operators(conn)

        for operator in asyncio.run(_with_db(listing)):
            state = f"disabled {operator.disabled_at:%Y-%m-%d}" if operator.disabled_at else "active"
            print(f"{operator.operator_id}  {operator.email}  created {operator.created_at:%Y-%m-%d}  {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
