"""The customer HTTP API's bodies."""

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from pydantic.alias_generators import to_camel

from paysaga.contracts.values import Currency, NewPassword, PersonName, PhoneE164


class _Body(BaseModel):
    # python-re: the password pattern looks ahead (pydantic's default engine cannot).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", regex_engine="python-re")


class NewCustomer(_Body):
    email: EmailStr = Field(max_length=254)
    password: NewPassword
    name: PersonName
    phone: PhoneE164
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
