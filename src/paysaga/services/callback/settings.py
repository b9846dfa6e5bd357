from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import ServiceSettings

DEV_PROVIDER_SECRET = "dev-only-provider-callback-secret-0123456789"


class CallbackSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLBACK_", extra="ignore")

    port: int = 8004
    provider_secret: SecretStr = Field(
        default=SecretStr(DEV_PROVIDER_SECRET), description="Shared secret of the provider's HMAC signatures"
    )
    signature_tolerance_seconds: int = Field(default=300, gt=0, description="Reject older (or newer) signatures")
    publish_timeout_seconds: float = Field(default=10.0, gt=0, description="Wait this long for Kafka's ack")
