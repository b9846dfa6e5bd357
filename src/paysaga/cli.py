"""`paysaga` command line: run the platform, migrate, regenerate the contract documents."""

from __future__ import annotations

import argparse
import asyncio
import sys


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["dwh"]:  # its own sub-commands and --help
        from paysaga.services.dwh.cli import main as dwh_main

        sys.exit(dwh_main(argv[1:]))
    parser = argparse.ArgumentParser(prog="paysaga", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the whole platform locally (PostgreSQL, Kafka, every service)")
    sub.add_parser("dwh", help="the analytics store (DuckDB): `paysaga dwh report [--db PATH] [--out DIR]`")
    sub.add_parser("clean", help="delete the local platform's state (PostgreSQL cluster, Kafka data, logs)")
    sub.add_parser("migrate", help="create and migrate every service's database on PAYSAGA_POSTGRES_URL")
    relay = sub.add_parser("relay", help="run one outbox relay for a database (several may run at once)")
    relay.add_argument("--dsn", required=True, help="the service database whose outbox to publish")
    keys = sub.add_parser("keys", help="make a service identity key pair (Ed25519) for production settings")
    keys.add_argument("service", help="the service the key is for, e.g. bff, payment or ops")
    gen = sub.add_parser("contracts", help="regenerate the JSON Schemas and the AsyncAPI document")
    gen.add_argument("--check", action="store_true", help="fail if the checked-in documents are stale")
    args = parser.parse_args(argv)

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
        from paysaga.platform.identity import new_private_key_text, service_keys_text

        private = new_private_key_text()
        print(f"# the {args.service} service's own setting (a secret):")
        print(f"{args.service.upper()}_IDENTITY_KEY={private}")
        print("# add to PAYSAGA_SERVICE_KEYS of every service (public; keep the old entry while rotating):")
        print(service_keys_text({args.service: private}))
    elif args.command == "contracts":
        from paysaga.contracts.generate import write_documents

        stale = write_documents(check=args.check)
        if stale and args.check:
            print("stale contract documents: " + ", ".join(stale), file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
