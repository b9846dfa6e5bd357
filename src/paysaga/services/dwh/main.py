"""Composition root of the DWH service: the ingest worker (Kafka → DuckDB) and the HTTP API."""

from paysaga.platform.bootstrap import init_process
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.dwh.app import build_app, duckdb_check
from paysaga.services.dwh.ingest import IngestWorker
from paysaga.services.dwh.settings import DwhSettings
from paysaga.services.dwh.store import DwhStore

NAME = "dwh"


def build() -> Service:
    platform = PlatformSettings()
    settings = DwhSettings()
    init_process(NAME, platform)
    store = DwhStore(settings.database_file, lock_wait_seconds=settings.lock_wait_seconds)
    ingest = IngestWorker(
        store,
        bootstrap_servers=platform.kafka_bootstrap_servers,
        group_id=settings.consumer_group,
        batch_size=settings.batch_size,
        poll_timeout_seconds=settings.poll_timeout_seconds,
        session_timeout_ms=settings.session_timeout_ms,
    )
    app = build_app(store, readiness={"duckdb": duckdb_check(store), "kafka": ingest.check_kafka})
    return Service(
        name=NAME,
        app=app,
        host=settings.host,
        port=settings.port,
        workers={"ingest": ingest},
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    serve_forever(build)
