"""schemathesis hooks for tests/e2e/test_api_contract.py (loaded by the `schemathesis run` it starts,
through SCHEMATHESIS_HOOKS): who the fuzzer is on each API, and the rules of a payout that JSON
Schema cannot state."""

from __future__ import annotations

import itertools
import os

import schemathesis
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.auths import AuthContext

from paysaga.contracts.banking import with_control_key
from paysaga.contracts.values import PASSWORD_MAX_LENGTH
from paysaga.platform.identity import ServiceIdentity

# Set by the test: the API under test and how to authenticate on it.
AUDIENCE = os.environ.get("CONTRACT_AUDIENCE", "")
BEARER = os.environ.get("CONTRACT_BEARER", "")  # a customer's (BFF) or an operator's (Ops) access token
CURRENCY = "RUB"  # the fuzzing customer's wallet currency
NUMERIC_CODE = {"RUB": "810"}
PAYOUTS = {("POST", "/api/v1/payments"), ("POST", "/v1/users/{user_id}/reservations")}
REGISTRATIONS = {("POST", "/api/v1/auth/register"), ("POST", "/v1/customers")}


def _identity(caller: str) -> ServiceIdentity:
    return ServiceIdentity.from_text(caller, os.environ[f"{caller.upper()}_IDENTITY_KEY"])


@schemathesis.auth(refresh_interval=None)
class PlatformAuth:
    """On an internal route (it names its `x-callers`, the BFF's token introspection too) the identity
    of a service it lets in, the operators' tools when they may call it; elsewhere the customer's or
    the operator's token."""

    def get(self, case: Case, ctx: AuthContext) -> str:
        callers: list[str] = ctx.operation.definition.raw.get("x-callers", [])
        if BEARER and not callers:
            return f"Bearer {BEARER}"
        caller = "ops" if "ops" in callers or not callers else callers[0]
        return _identity(caller).authorization(AUDIENCE)

    def set(self, case: Case, data: str, ctx: AuthContext) -> None:
        case.headers["Authorization"] = data


@schemathesis.hook
def map_case(ctx: schemathesis.HookContext, case: Case) -> Case:
    """A valid payout is one the customer can make: in the wallet's currency, to an account held in
    it whose control key matches the BIC. The document states each field's format; these relations
    between the fields and with the wallet are the server's to check (422 when they fail), so a
    schema-valid payout is made to satisfy them. Negative cases are left as drawn."""
    if (case.method.upper(), case.operation.path) not in PAYOUTS:
        return case
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    body = case.body
    recipient = body.get("recipient") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(recipient, dict):
        return case
    account, bic = recipient.get("accountNumber"), recipient.get("bankBic")
    if isinstance(account, str) and isinstance(bic, str):
        body["currency"] = CURRENCY
        recipient["accountNumber"] = with_control_key(account[:5] + NUMERIC_CODE[CURRENCY] + account[8:], bic)
    return case


# Formats the documents name for rules a JSON Schema cannot state: values that follow them.
schemathesis.openapi.format(
    "phone", st.sampled_from(["+79161234567", "+74951234567", "+442079460958", "+12025550143", "+4930123456"])
)
schemathesis.openapi.format(
    "person-name",
    st.text(
        st.characters(categories=["L", "M", "N", "P", "S"], include_characters=" "), min_size=1, max_size=60
    ).filter(lambda name: bool(name.strip())),
)


def _strong(password: str, email: str) -> str:
    """The password, made to pass the rules the schema cannot state (5 different characters, not
    the email's local part) by what it ends with; still within the schema."""
    local = email.split("@", 1)[0].lower()
    suffix = "Qz9#"
    candidate = password[: PASSWORD_MAX_LENGTH - len(suffix)] + suffix
    if len(local) >= 4 and local in candidate.lower():
        candidate = candidate.lower().replace(local, "x" * len(local))
        candidate = candidate[: PASSWORD_MAX_LENGTH - len(suffix)] + suffix
    return candidate


@schemathesis.hook("map_case")
def strong_passwords(ctx: schemathesis.HookContext, case: Case) -> Case:
    if (case.method.upper(), case.operation.path) not in REGISTRATIONS:
        return case
    if case.meta is None or not case.meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return case
    password, email = case.body.get("password"), case.body.get("email")
    if isinstance(password, str) and isinstance(email, str):
        case.body["password"] = _strong(password, email)
    return case


_operations = itertools.count()


@schemathesis.hook("map_case")
def one_key_per_operation(ctx: schemathesis.HookContext, case: Case) -> Case:
    """Each valid request is a new operation, so it has a key of its own (the drawn key, made unique):
    the same key with another body is a client's mistake (422 `idempotency-conflict`)."""
    key = case.headers.get("Idempotency-Key")
    if case.meta is None or not case.meta.generation.mode.is_positive or not isinstance(key, str):
        return case
    suffix = f"-{next(_operations)}"
    case.headers["Idempotency-Key"] = key[: 255 - len(suffix)].rstrip() + suffix
    return case


schemathesis.openapi.format(
    "email",
    st.builds(
        "{}@{}.{}".format,
        st.from_regex(r"[a-z0-9]{1,12}([._+-][a-z0-9]{1,12}){0,2}", fullmatch=True),
        st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True),
        st.sampled_from(["org", "com", "ru", "net"]),
    ),
)


GATEWAY_BEHAVIOUR = ("PUT", "/v1/gateways/{channel}/behaviour")
SHORT_DELAY_MS = 50


@schemathesis.hook("map_case")
def short_gateway_delays(ctx: schemathesis.HookContext, case: Case) -> Case:
    """A simulated gateway made slow by the fuzzer (up to 10 minutes a send: valid) would hold
    Notification's senders long after this run, while the e2e tests that share the platform expect
    notifications within seconds; the delay stays short (the field's bounds are still sent by the
    coverage phase's negative cases), and the test restores every gateway when it is done."""
    if (case.method.upper(), case.operation.path) != GATEWAY_BEHAVIOUR or not isinstance(case.body, dict):
        return case
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    delay = case.body.get("delayMs")
    if isinstance(delay, int) and not isinstance(delay, bool) and delay > SHORT_DELAY_MS:
        case.body["delayMs"] = SHORT_DELAY_MS
    return case
