from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import DatabaseServiceSettings
from paysaga.services.bff.throttle import ThrottleLimits


class BffSettings(DatabaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BFF_", extra="ignore")

    port: int = 8000
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 key that signs the access tokens (32+ chars; required outside dev)"
    )
    jwt_previous_secrets: str = Field(
        default="", description="Former signing keys, comma separated: their tokens are still accepted (rotation)"
    )
    identity_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (base64url) the service signs its identity tokens with; its public key "
        "goes into PAYSAGA_SERVICE_KEYS (`paysaga keys` makes a pair; required outside dev)",
    )
    jwt_ttl_seconds: int = Field(default=900, gt=0, description="Access token lifetime")
    customer_url: str = Field(default="http://127.0.0.1:8001", description="Customer service base URL")
    wallet_url: str = Field(default="http://127.0.0.1:8002", description="Wallet service base URL")
    query_url: str = Field(default="http://127.0.0.1:8005", description="Query service base URL")
    web_app_dir: str = Field(
        default="",
        description="The built customer app the BFF serves at / (empty: web/customer/dist of this checkout)",
    )
    downstream_timeout_seconds: float = Field(default=5.0, description="Timeout of calls to the services")
    idempotency_retention_seconds: float = Field(default=48 * 3600, ge=24 * 3600, description="Keep keys this long")
    auth_address_limit: int = Field(
        default=30, gt=0, description="Login and registration requests per client address per window"
    )
    auth_address_window_seconds: int = Field(default=60, gt=0, description="Window of the per-address limit")
    login_failure_limit: int = Field(
        default=10, gt=0, description="Failed logins per account per window; then 429 until the window ends"
    )
    login_failure_window_seconds: int = Field(default=900, gt=0, description="Window of the failed-login limit")

    def throttle_limits(self) -> ThrottleLimits:
        return ThrottleLimits(
            address_requests=self.auth_address_limit,
            address_window_seconds=self.auth_address_window_seconds,
            account_failures=self.login_failure_limit,
            account_window_seconds=self.login_failure_window_seconds,
        )
