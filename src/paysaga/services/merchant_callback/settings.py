"""Merchant Callback settings: env prefix `MERCHANT_CALLBACK_`."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from paysaga.platform.secrets import InsecureSecrets, reveal, split_secrets
from paysaga.platform.settings import BatchingConsumerSettings
from paysaga.services.merchant_callback.domain import RetryPolicy
from paysaga.services.merchant_callback.secretbox import SecretBox, fernet_key


class MerchantCallbackSettings(BatchingConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="MERCHANT_CALLBACK_", extra="ignore")

    port: int = Field(default=8008, description="HTTP port: subscriptions and deliveries API")
    consumer_group: str = Field(default="merchant-callback", description="Kafka consumer group")
    retry_horizon_seconds: float = Field(
        default=86_400.0, gt=0, description="A webhook is retried this long after it was scheduled, then dead-lettered"
    )
    retry_initial_seconds: float = Field(
        default=10.0, gt=0, description="Delay before the first retry of a failed webhook (doubles each time)"
    )
    retry_max_seconds: float = Field(default=3_600.0, gt=0, description="Cap of the delay between two webhook attempts")
    request_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one webhook POST (connect, write and read)"
    )
    lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A dispatcher owns a claimed delivery this long (must exceed the request timeout)",
    )
    allow_private_targets: bool = Field(
        default=False,
        description="Let webhooks go to loopback, private and link-local addresses (local development only)",
    )
    secrets_key: SecretStr | None = Field(
        default=None,
        description="Fernet key (32 random bytes, url-safe base64) that encrypts the merchants' webhook secrets "
        "at rest (required outside dev)",
    )
    previous_secrets_keys: str = Field(
        default="",
        description="Former secrets keys, comma separated: secrets encrypted under them still decrypt (rotation)",
    )
    worker_batch: int = Field(default=32, gt=0, description="Webhooks a dispatcher sends at once")
    worker_poll_seconds: float = Field(default=1.0, gt=0, description="How often the dispatcher looks for due webhooks")

    @model_validator(mode="after")
    def _lease_outlives_request(self) -> MerchantCallbackSettings:
        if self.lease_seconds <= self.request_timeout_seconds:
            raise ValueError("lease_seconds must exceed request_timeout_seconds, or a slow webhook is sent twice")
        if self.retry_max_seconds < self.retry_initial_seconds:
            raise ValueError("retry_max_seconds must be at least retry_initial_seconds")
        return self

    def secret_box(self) -> SecretBox:
        """The cipher of the webhook secrets; InsecureSecrets (refuse to start) naming a key that is not one.
        Call after `require_secrets` checked the key is set."""
        keys = [("MERCHANT_CALLBACK_SECRETS_KEY", reveal(self.secrets_key))]
        keys += [("MERCHANT_CALLBACK_PREVIOUS_SECRETS_KEYS", k) for k in split_secrets(self.previous_secrets_keys)]
        problems = []
        for variable, key in keys:
            try:
                fernet_key(key)
            except ValueError as exc:
                problems.append(f"{variable} is not a usable Fernet key: {exc}")
        if problems:
            raise InsecureSecrets("refusing to start: " + "; ".join(problems))
        return SecretBox.of(reveal(self.secrets_key), self.previous_secrets_keys)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            initial_seconds=self.retry_initial_seconds,
            max_seconds=self.retry_max_seconds,
            horizon_seconds=self.retry_horizon_seconds,
        )
