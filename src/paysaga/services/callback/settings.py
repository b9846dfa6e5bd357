from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import ServiceSettings


class CallbackSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLBACK_", extra="ignore")

    port: int = 8004
    provider_secret: SecretStr | None = Field(
        default=None, description="Shared secret of the provider's HMAC signatures (32+ chars; required outside dev)"
    )
    provider_previous_secrets: str = Field(
        default="", description="Former provider secrets, comma separated: still accepted while rotating"
    )
    signature_tolerance_seconds: int = Field(default=300, gt=0, description="Reject older (or newer) signatures")
    publish_timeout_seconds: float = Field(default=10.0, gt=0, description="Wait this long for Kafka's ack")
