from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import ServiceSettings

DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-0123456789"


class BffSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BFF_", extra="ignore")

    port: int = 8000
    jwt_secret: SecretStr = Field(default=SecretStr(DEV_JWT_SECRET), min_length=32)
    jwt_ttl_seconds: int = Field(default=900, gt=0)
    customer_url: str = "http://127.0.0.1:8001"
    wallet_url: str = "http://127.0.0.1:8002"
    query_url: str = "http://127.0.0.1:8005"
    downstream_timeout_seconds: float = 5.0
    idempotency_retention_seconds: float = Field(default=48 * 3600, ge=24 * 3600, description="Keep keys this long")
