"""Composition root of the DWH service: the ingest worker (Kafka → DuckDB) and the HTTP API."""

from paysaga.platform.assembly import build_service
from paysaga.platform.bootstrap import init_process
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.dwh.app import build_app, duckdb_check
from paysaga.services.dwh.ingest import IngestWorker
from paysaga.services.dwh.settings import DwhSettings
from paysaga.services.dwh.store import DwhStore

NAME = "dwh"


def build(settings: DwhSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or DwhSettings(), platform or PlatformSettings()
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
    return build_service(NAME, settings, app, platform=platform, workers={"ingest": ingest})


if __name__ == "__main__":
    serve_forever(build)
