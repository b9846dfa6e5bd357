from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import InboxSettings, OutboxSettings


class PaymentSettings(OutboxSettings, InboxSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENT_", extra="ignore")

    port: int = 8003
    consumer_group: str = Field(default="payment", description="Kafka consumer group")
    identity_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (base64url) the service signs its identity tokens with; its public key "
        "goes into PAYSAGA_SERVICE_KEYS (`paysaga keys` makes a pair; required outside dev)",
    )
    antifraud_target: str = Field(default="127.0.0.1:50051", description="gRPC address of Anti-Fraud")
    antifraud_deadline_seconds: float = Field(default=0.5, gt=0, description="gRPC deadline of a Check")
    provider_url: str = Field(default="http://127.0.0.1:8099", description="Base URL of the payout provider")
    provider_timeout_seconds: float = Field(default=5.0, gt=0, description="HTTP timeout of provider calls")
    provider_api_key: SecretStr | None = Field(
        default=None, description="Bearer key of the provider API (32+ chars; required outside dev)"
    )
    callback_url: str = Field(
        default="http://127.0.0.1:8004/v1/provider/callbacks",
        description="Where the provider sends callbacks",
    )
    inquiry_after_seconds: float = Field(default=30.0, gt=0, description="Ask the provider after this long")
    inquiry_interval_seconds: float = Field(default=10.0, gt=0, description="Ask again this often")
    deadline_seconds: float = Field(default=300.0, gt=0, description="Hard deadline: then FAILED(TIMEOUT)")
    stuck_after_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A payment not final this long after it was initiated counts as stuck "
        "(the `paysaga_payments_stuck` gauge, and its alert)",
    )
    orphan_callback_after_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A callback no payment has claimed this long is looked up at the provider by its txn id",
    )
    orphan_sweep_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often unclaimed callbacks are looked for"
    )
    orphan_retry_after_seconds: float = Field(
        default=300.0, gt=0, description="An unclaimed callback that could not be resolved is looked up again after"
    )
    late_inquiry_interval_seconds: float = Field(
        default=600.0,
        gt=0,
        description="After a timeout the provider had not settled, ask it about the payout this often",
    )
    late_inquiry_horizon_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="How long after the timeout it is asked; then the inquiries stop with an error log",
    )
    late_inquiry_sweep_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often due follow-up inquiries are looked for"
    )
    retry_initial_seconds: float = Field(default=0.2, gt=0, description="First retry delay of a step")
    retry_max_seconds: float = Field(default=10.0, gt=0, description="Cap of a step's retry delay")
    lease_seconds: float = Field(default=15.0, gt=0, description="A worker owns a claimed payment this long")
    worker_batch: int = Field(default=64, gt=0, description="Payments a worker advances at once")
    worker_poll_seconds: float = Field(default=0.5, gt=0, description="How often the worker looks for due steps")
