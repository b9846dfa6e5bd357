"""`paysaga` command line: run the platform, migrate, regenerate the contract documents."""

from __future__ import annotations

import argparse
import asyncio
import sys


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    # These have their own sub-commands, arguments and --help.
    delegated = {
        "dwh": "paysaga.services.dwh.cli",
        "operator": "paysaga.services.ops.cli",
        "saga": "paysaga.services.ops.saga_cli",
    }
    if argv[:1] and argv[0] in delegated:
        import importlib

        sys.exit(importlib.import_module(delegated[argv[0]]).main(argv[1:]))
    args = _parser().parse_args(argv)

    if args.command == "run":
        from paysaga.devstack.stack import run_platform

        asyncio.run(run_platform())
    elif args.command == "clean":
        import shutil

        from paysaga.devstack.paths import state_dir
        from paysaga.devstack.postgres import PostgresCluster

        for folder in (PostgresCluster(state_dir() / "postgres", 0).data_dir, state_dir()):
            shutil.rmtree(folder, ignore_errors=True)
            print(f"removed {folder}")
    elif args.command == "migrate":
        from paysaga.devstack.setup import prepare_databases
        from paysaga.platform.settings import PlatformSettings

        asyncio.run(prepare_databases(PlatformSettings().paysaga_postgres_url))
    elif args.command == "relay":
        from paysaga.platform.relay import run_standalone

        asyncio.run(run_standalone(args.dsn))
    elif args.command == "keys":
        _print_keys(args.service)
    elif args.command == "token":
        _print_token(args.service)
    elif args.command == "contracts":
        from paysaga.contracts.generate import write_documents

        stale = write_documents(check=args.check)
        if stale and args.check:
            print("stale contract documents: " + ", ".join(stale), file=sys.stderr)
            sys.exit(1)
    elif args.command == "openapi":
        _write_openapi(check=args.check)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paysaga", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the whole platform locally (PostgreSQL, Kafka, every service)")
    sub.add_parser("dwh", help="the analytics store (DuckDB): `paysaga dwh report [--db PATH] [--out DIR]`")
    sub.add_parser(
        "operator", help="operators' accounts of the Ops service: `paysaga operator create --email E` (disable, list)"
    )
    sub.add_parser(
        "saga", help="where is a payment and what is it waiting for: `paysaga saga <paymentId> --email E` (Ops)"
    )
    sub.add_parser("clean", help="delete the local platform's state (PostgreSQL cluster, Kafka data, logs)")
    sub.add_parser("migrate", help="create and migrate every service's database on PAYSAGA_POSTGRES_URL")
    relay = sub.add_parser("relay", help="run one outbox relay for a database (several may run at once)")
    relay.add_argument("--dsn", required=True, help="the service database whose outbox to publish")
    keys = sub.add_parser("keys", help="make a service identity key pair (Ed25519) for production settings")
    keys.add_argument("service", help="the service the key is for, e.g. bff, payment or ops")
    token = sub.add_parser(
        "token", help="print an operator's identity token for one service's internal API (5 minutes)"
    )
    token.add_argument("service", help="the service to call, e.g. notification or core_banking")
    gen = sub.add_parser("contracts", help="regenerate the JSON Schemas and the AsyncAPI document")
    gen.add_argument("--check", action="store_true", help="fail if the checked-in documents are stale")
    api = sub.add_parser("openapi", help="rewrite the OpenAPI documents the browser apps' clients are generated from")
    api.add_argument("--check", action="store_true", help="fail if a checked-in document is stale")
    return parser


def _write_openapi(*, check: bool) -> None:
    import os

    from paysaga.devstack.openapi_docs import write_documents

    stale = write_documents(check=check)
    for path in stale:
        print(f"{'stale' if check else 'wrote'} {path}", file=sys.stderr if check else sys.stdout)
    sys.stdout.flush()
    # The services' Kafka clients were made (never connected); do not wait for their threads.
    os._exit(1 if stale and check else 0)


def _print_keys(service: str) -> None:
    from paysaga.platform.identity import new_private_key_text, service_keys_text

    private = new_private_key_text()
    print(f"# the {service} service's own setting (a secret):")
    print(f"{service.upper()}_IDENTITY_KEY={private}")
    print("# add to PAYSAGA_SERVICE_KEYS of every service (public; keep the old entry while rotating):")
    print(service_keys_text({service: private}))


def _print_token(service: str) -> None:
    import os

    from paysaga.devstack.paths import state_dir
    from paysaga.devstack.secrets import FILE_NAME, dev_secrets
    from paysaga.platform.identity import ServiceIdentity

    key = os.environ.get("OPS_IDENTITY_KEY")
    if not key and (state_dir() / FILE_NAME).exists():
        key = dev_secrets(state_dir())["OPS_IDENTITY_KEY"]
    if not key:
        sys.exit("paysaga token: set OPS_IDENTITY_KEY, or run `make run` once to make this installation's keys")
    print(ServiceIdentity.from_text("ops", key).token(service))


if __name__ == "__main__":
    main()
