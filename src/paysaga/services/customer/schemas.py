"""The customer HTTP API's bodies."""

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from pydantic.alias_generators import to_camel
from pydantic_extra_types.phone_numbers import PhoneNumber

from paysaga.contracts.values import Currency, PersonName


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class PhoneE164(PhoneNumber):
    phone_format = "E164"


class NewCustomer(_Body):
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=1, max_length=128)
    name: PersonName
    phone: PhoneE164 = Field(description="International format, e.g. +79161234567")
    currency: Currency = "RUB"


class CustomerId(_Body):
    user_id: str


class Credentials(_Body):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=128)


class CustomerView(_Body):
    user_id: str
    email: str
    name: str
    phone: str
    currency: str
