from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import DatabaseServiceSettings


class BffSettings(DatabaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BFF_", extra="ignore")

    port: int = 8000
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 key that signs the access tokens (32+ chars; required outside dev)"
    )
    jwt_previous_secrets: str = Field(
        default="", description="Former signing keys, comma separated: their tokens are still accepted (rotation)"
    )
    jwt_ttl_seconds: int = Field(default=900, gt=0, description="Access token lifetime")
    customer_url: str = Field(default="http://127.0.0.1:8001", description="Customer service base URL")
    wallet_url: str = Field(default="http://127.0.0.1:8002", description="Wallet service base URL")
    query_url: str = Field(default="http://127.0.0.1:8005", description="Query service base URL")
    downstream_timeout_seconds: float = Field(default=5.0, description="Timeout of calls to the services")
    idempotency_retention_seconds: float = Field(default=48 * 3600, ge=24 * 3600, description="Keep keys this long")
