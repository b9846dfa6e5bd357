"""The public REST contract's bodies (SPEC §7), camelCase on the wire."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from pydantic.alias_generators import to_camel

from paysaga.contracts.values import Currency


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class RegisterRequest(_Body):
    email: EmailStr = Field(max_length=254, examples=["ann@example.org"])
    password: str = Field(
        min_length=10, max_length=128, description="At least 10 characters, with a letter and a digit"
    )
    name: str = Field(min_length=1, max_length=200, examples=["Анна Иванова"])
    phone: str = Field(min_length=5, max_length=20, examples=["+79161234567"], description="E.164")
    currency: Currency = "RUB"


class RegisterResponse(_Body):
    user_id: str


class LoginRequest(_Body):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=128)


class LoginResponse(_Body):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class WalletResponse(_Body):
    wallet_id: str
    currency: str
    balance: int
    reserved: int
    available: int
