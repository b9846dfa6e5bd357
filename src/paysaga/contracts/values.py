"""Value types that appear in more than one contract."""

from typing import Annotated

import pycountry
from pydantic import AfterValidator, Field


def _iso_4217(code: str) -> str:
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


Currency = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 alphabetic code", examples=["RUB"]),
    AfterValidator(_iso_4217),
]
"""An ISO 4217 alphabetic currency code, upper case (RUB, USD, ...)."""

MinorUnits = Annotated[
    int, Field(strict=True, gt=0, description="Amount in minor units of the currency (kopecks for RUB)")
]
