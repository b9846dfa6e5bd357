"""Typed settings. Each service has its own class with its own env prefix (WALLET_, BFF_, ...);
what every service shares is read here without a prefix."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STATE_DIR = Path(".local")


class PlatformSettings(BaseSettings):
    """Shared by every process of the platform."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Kafka bootstrap address(es), comma separated"
    )
    # How this process logs in to Kafka (platform.kafka.kafka_access): every client of the process uses it.
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = Field(
        default="PLAINTEXT",
        description="Kafka security protocol: `SASL_SSL` in production (`make run` and the tests: `SASL_PLAINTEXT`)",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        default="SCRAM-SHA-512", description="SASL mechanism (with a `SASL_*` protocol)"
    )
    kafka_sasl_username: str | None = Field(
        default=None, description="This service's Kafka principal (with a `SASL_*` protocol; locally its name)"
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="Its password (32+ chars; required outside dev with a `SASL_*` protocol)"
    )
    kafka_ssl_ca_location: str | None = Field(
        default=None, description="CA certificate(s) (PEM file) that verify the brokers (`SSL`, `SASL_SSL`)"
    )
    kafka_ssl_certificate_location: str | None = Field(
        default=None, description="Client certificate (PEM file), for brokers that require mutual TLS"
    )
    kafka_ssl_key_location: str | None = Field(default=None, description="The client certificate's key (PEM file)")
    paysaga_postgres_url: str = Field(
        default="postgresql://paysaga@127.0.0.1:55432/postgres",
        description="Admin DSN of the PostgreSQL server; each service's database is on it by default",
    )
    paysaga_log_format: str = Field(default="auto", description="`json`, `console` or `auto` (console on a tty)")
    paysaga_log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    paysaga_env: Literal["dev", "prod"] = Field(
        default="prod",
        description="`dev` (what `make run` and the tests set): a missing secret is replaced by a random one; "
        "`prod`: a service refuses to start without its secrets",
    )
    paysaga_zipkin_url: str = Field(
        default="",
        description="Zipkin's base URL (e.g. `http://127.0.0.1:9411`): spans are exported to `<url>/api/v2/spans`; "
        "empty: no export, spans are not recorded (the W3C trace context still flows). `make run` sets it to the "
        "Zipkin it starts, unless it is set (empty: no Zipkin)",
    )
    paysaga_trace_sample_ratio: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="Share of new traces recorded while exporting; parent-based, so a payment's trace is kept or "
        "dropped whole (`OTEL_TRACES_SAMPLER`/`_ARG`, if set, win)",
    )
    paysaga_metrics_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the gauges that need a query (outbox backlog, Payment's stuck payments, open "
        "cases, the Ops service's view of every group's lag from the brokers) are read; a consumer's own lag "
        "comes from its Kafka client every 5 s",
    )
    paysaga_instance_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Set when several instances of a service run on one host: each then shares the service's "
        "port with the others (SO_REUSEPORT: the kernel spreads connections over them) and also listens on this "
        "port of its own, for its probes and its /metrics (`paysaga run` sets it; see README, Scale-out)",
    )
    paysaga_service_keys: str = Field(
        default="",
        description="Public keys of the services that call internal APIs: `name=<base64url Ed25519 key>`, comma "
        "separated, several per name while one is rotated (`paysaga keys` makes a key pair)",
    )


def service_database_url(admin_url: str, service: str) -> str:
    """The per-service database on the admin DSN's server: one database per service."""
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/paysaga_{service}"


class ServiceSettings(BaseSettings):
    """Fields every service has; subclasses set `env_prefix` and their own fields."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds")
    port: int = Field(default=8000, description="HTTP port")
    shutdown_grace_seconds: float = Field(
        default=10.0, description="On SIGTERM, time to finish the work in hand before stopping"
    )
    max_body_bytes: int = Field(
        default=1 << 20, gt=0, description="Largest request body accepted (bytes); a larger one is refused with 413"
    )
    max_concurrent_requests: int = Field(
        default=256, gt=0, description="Requests in flight at most; more are shed with 503 and `Retry-After`"
    )


class DatabaseServiceSettings(ServiceSettings):
    """A service with its own database."""

    database_url: str | None = Field(
        default=None, description="DSN of this service's own database (default: paysaga_<service> on the server)"
    )
    db_pool_min: int = Field(default=2, description="Database connections kept open")
    db_pool_max: int = Field(default=10, description="Most database connections")
    db_acquire_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Longest wait for a free database connection; a request then gets 503"
    )


class _RetentionSettings(DatabaseServiceSettings):
    retention_interval_seconds: float = Field(default=600.0, gt=0, description="How often old rows are deleted")


class OutboxSettings(_RetentionSettings):
    """A service with a transactional outbox."""

    outbox_retention_hours: float = Field(
        default=24.0, ge=0, description="How long published outbox rows are kept (unpublished ones always are)"
    )


class InboxSettings(_RetentionSettings):
    """A service that consumes events (its inbox)."""

    inbox_retention_hours: float = Field(
        default=192.0,
        ge=1,
        description="How long inbox rows (applied event ids) are kept: longer than Kafka keeps records (7 days)",
    )


class BatchingConsumerSettings(InboxSettings):
    """A consumer off the payment's critical path, which trades a little latency for bigger batches."""

    consumer_fetch_wait_ms: int = Field(
        default=200,
        ge=0,
        le=5000,
        description="How long the broker may hold a fetch to fill a batch (off the payment's critical path)",
    )
