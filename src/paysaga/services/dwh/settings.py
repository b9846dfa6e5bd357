"""Settings of the DWH service (env prefix `DWH_`)."""

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import ServiceSettings


def _state_dir() -> Path:
    """The platform's state folder (`PAYSAGA_STATE_DIR`, default `.local`), as the devstack uses it."""
    return Path(os.environ.get("PAYSAGA_STATE_DIR", ".local"))


class DwhSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DWH_", extra="ignore")

    port: int = 8010
    database_path: Path | None = Field(
        default=None, description="The DuckDB file (default: <PAYSAGA_STATE_DIR or .local>/dwh/paysaga.duckdb)"
    )
    report_dir: Path | None = Field(
        default=None,
        description="Where `paysaga dwh report` writes by default (default: <PAYSAGA_STATE_DIR or .local>/dwh/report)",
    )
    consumer_group: str = Field(default="dwh", description="Kafka consumer group of the ingest")
    batch_size: int = Field(
        default=5000, gt=0, le=100_000, description="Most records written in one DuckDB transaction"
    )
    poll_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Longest wait to fill a batch from Kafka: records land at most this late (each write opens and"
            " checkpoints the DuckDB file, ~0.1 s of CPU, so fewer and larger writes)"
        ),
    )
    session_timeout_ms: int = Field(
        default=10_000, ge=1_000, description="Kafka group session timeout: how soon a dead ingest's partitions move"
    )
    lock_wait_seconds: float = Field(
        default=15.0,
        ge=0,
        description="How long to wait for the DuckDB file while another process (a report) holds it",
    )

    @property
    def database_file(self) -> Path:
        return self.database_path or _state_dir() / "dwh" / "paysaga.duckdb"

    @property
    def report_folder(self) -> Path:
        return self.report_dir or _state_dir() / "dwh" / "report"
