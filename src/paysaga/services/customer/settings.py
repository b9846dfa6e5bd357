from pydantic import Field
from pydantic_settings import SettingsConfigDict

from paysaga.platform.settings import OutboxSettings


class CustomerSettings(OutboxSettings):
    model_config = SettingsConfigDict(env_prefix="CUSTOMER_", extra="ignore")

    port: int = 8001
    password_hash_workers: int = Field(
        default=2, gt=0, description="Threads that hash and verify passwords (argon2id, CPU bound)"
    )
    password_hash_queue: int = Field(
        default=32, ge=0, description="Password hashes that may wait for a thread; past them a request gets 503"
    )
