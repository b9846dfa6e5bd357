from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import ServiceSettings


class ProviderSimSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROVIDER_SIM_", extra="ignore")

    port: int = 8099
    callback_secret: SecretStr | None = Field(
        default=None,
        description="Shared secret of the HMAC-SHA256 callback signature (= CALLBACK_PROVIDER_SECRET; "
        "required outside dev)",
    )
    default_delay_ms: int = Field(
        default=20, ge=0, description="Delay before the callback when no rule (or a rule without delayMs)"
    )
    late_success_delay_ms: int = Field(
        default=3000, ge=0, description="Delay of a LATE_SUCCESS(_NO_CALLBACK) rule that has no delayMs"
    )
    callback_timeout_seconds: float = Field(default=5.0, gt=0, description="HTTP timeout of one callback attempt")
    callback_retry_initial_seconds: float = Field(default=0.2, gt=0, description="First retry delay")
    callback_retry_multiplier: float = Field(default=2.0, ge=1.0, description="Growth of the retry delay")
    callback_retry_max_seconds: float = Field(default=5.0, gt=0, description="Cap of one retry delay")
    callback_max_attempts: int = Field(default=10, ge=1, description="Attempts per callback, first included")
