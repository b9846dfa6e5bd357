from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import DatabaseServiceSettings

# Every service the operators look after, at its default address (`paysaga run` and the tests set
# OPS_SERVICE_URLS to the ports they use).
DEFAULT_SERVICE_URLS = ",".join(
    f"{name}=http://127.0.0.1:{port}"
    for name, port in (
        ("bff", 8000),
        ("customer", 8001),
        ("wallet", 8002),
        ("payment", 8003),
        ("callback", 8004),
        ("query", 8005),
        ("antifraud", 8006),
        ("notification", 8007),
        ("merchant_callback", 8008),
        ("core_banking", 8009),
        ("dwh", 8010),
        ("provider_sim", 8099),
    )
)


class OpsSettings(DatabaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OPS_", extra="ignore")

    port: int = Field(default=8011, description="HTTP port of the operators' API (`/ops/v1/...`)")
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 key that signs the operators' access tokens (32+ chars; required outside dev)"
    )
    jwt_previous_secrets: str = Field(
        default="", description="Former signing keys, comma separated: their tokens are still accepted (rotation)"
    )
    jwt_ttl_seconds: int = Field(default=3600, gt=0, le=12 * 3600, description="Operator access token lifetime")
    identity_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (base64url) of the operators' identity `ops`, which the Ops service signs "
        "its calls to the other services' ops routes with; its public key goes into PAYSAGA_SERVICE_KEYS "
        "(`paysaga keys ops`; required outside dev)",
    )
    service_urls: str = Field(
        default=DEFAULT_SERVICE_URLS,
        description="The services the fleet view watches: `name=base URL`, comma separated",
    )
    fleet_timeout_seconds: float = Field(
        default=2.0, gt=0, le=30, description="How long the fleet view waits for a service or Kafka; then it is down"
    )
    peer_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Timeout of a call to another service's ops API (reconciliation cases)"
    )
    saga_timeout_seconds: float = Field(
        default=5.0, gt=0, le=30, description="How long a saga timeline waits for each service; then it is a note"
    )
    zipkin_url: str = Field(
        default="http://127.0.0.1:9411",
        description="The trace backend's (Zipkin's) address, for the link to a payment's trace; empty: no link",
    )
    reconciliation_interval_seconds: float = Field(
        default=300, gt=0, description="How often the reconciliation job compares the services' figures"
    )
    reconciliation_margin_seconds: float = Field(
        default=60,
        ge=0,
        description="A reconciliation run judges payments final up to this long ago (events still in flight), "
        "and reads both sides this much wider",
    )
    dlq_scan_limit: int = Field(
        default=5000, gt=0, description="Dead-letter records read at most per request (paging continues after them)"
    )
    dlq_scan_seconds: float = Field(
        default=5.0, gt=0, description="Time a dead-letter request may spend reading Kafka (paging continues after)"
    )
    replay_max_records: int = Field(default=500, gt=0, description="Records one replay request re-publishes at most")
    login_address_limit: int = Field(default=30, gt=0, description="Login requests per client address per window")
    login_address_window_seconds: int = Field(default=60, gt=0, description="Window of the per-address login limit")
    login_failure_limit: int = Field(
        default=5, gt=0, description="Failed logins per operator account per window; then 429 until the window ends"
    )
    login_failure_window_seconds: int = Field(default=900, gt=0, description="Window of the failed-login limit")
    idempotency_retention_seconds: float = Field(
        default=48 * 3600, ge=24 * 3600, description="How long replay requests' Idempotency-Keys are kept"
    )
    password_hash_workers: int = Field(default=1, gt=0, description="Threads that hash and verify passwords")
    password_hash_queue: int = Field(
        default=8, ge=0, description="Password checks that may wait for a thread; past them a login gets 503"
    )
