"""The `Idempotency-Key` request header, as the BFF and the Ops service accept it and declare it."""

from __future__ import annotations

import re
from typing import Any

MAX_KEY_LENGTH = 255
# Visible ASCII, spaces inside: what `well_formed` accepts and the OpenAPI documents state.
KEY_PATTERN = rf"^[!-~](?:[ -~]{{0,{MAX_KEY_LENGTH - 2}}}[!-~])?$"


def well_formed(key: str) -> bool:
    return re.fullmatch(KEY_PATTERN, key) is not None


def key_parameter() -> dict[str, Any]:
    """The header as an operation's `openapi_extra` declares it: required. The route's own parameter
    stays optional, so that a missing key gets the service's own 400 problem, not FastAPI's 422."""
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": True,
        "description": "Unique per operation (e.g. a UUID); a retry of the same operation reuses it",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
    }
