"""A service's secrets, checked when it starts (SPEC §11: no usable default outside dev mode).

Outside `PAYSAGA_ENV=dev` a secret that is missing, shorter than 32 characters or one of the
values the source used to ship makes the process refuse to start, naming the variable. In dev
mode a missing secret is replaced by a random one for this process (with a warning): fine for a
key only this process uses; a secret shared with another process comes from the devstack.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from paysaga.platform.settings import PlatformSettings

MIN_LENGTH = 32

# The dev values the source used to default to: known to anyone who read it, so never accepted
# outside dev mode. Kept only to refuse them.
KNOWN_DEV_VALUES = frozenset(
    {
        "dev-only-secret-change-me-in-production-0123456789",
        "dev-only-provider-callback-secret-0123456789",
        "dev-only-provider-api-key",
    }
)

S = TypeVar("S", bound=BaseSettings)

log = structlog.get_logger("paysaga.secrets")


class InsecureSecrets(SystemExit):
    """Raised by `require_secrets`: as a SystemExit, the process exits 1 with the message on stderr."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret field of a settings class; `previous` names a comma-separated field of older values."""

    field: str
    shared: bool = False
    previous: str | None = None


def env_name(settings: BaseSettings, field: str) -> str:
    return f"{settings.model_config.get('env_prefix', '')}{field}".upper()


def split_secrets(value: str) -> list[str]:
    """A comma-separated list of secrets (empty items ignored)."""
    return [item.strip() for item in value.split(",") if item.strip()]


def reveal(value: SecretStr | None) -> str:
    """The value of a secret `require_secrets` has checked."""
    if value is None:
        raise RuntimeError("secret used before require_secrets() checked it")
    return value.get_secret_value()


def _problem(variable: str, value: str) -> str | None:
    if value in KNOWN_DEV_VALUES:
        return f"{variable} is a known development value: set it to 32+ random characters"
    if len(value) < MIN_LENGTH:
        return f"{variable} is shorter than {MIN_LENGTH} characters: set it to 32+ random characters"
    return None


def require_secrets(settings: S, platform: PlatformSettings, fields: Iterable[Secret]) -> S:
    """`settings` with its secrets checked (and, in dev mode, missing ones filled in).

    Raises InsecureSecrets naming every offending variable outside dev mode."""
    dev = platform.paysaga_env == "dev"
    problems: list[str] = []
    update: dict[str, SecretStr] = {}
    for secret in fields:
        variable = env_name(settings, secret.field)
        value: SecretStr | None = getattr(settings, secret.field)
        if value is None or not value.get_secret_value():
            if dev:
                update[secret.field] = SecretStr(secrets.token_urlsafe(32))
                log.warning(
                    "secrets.generated",
                    variable=variable,
                    hint="random for this process only"
                    + ("; its peers will not share it, set it (make run does)" if secret.shared else ""),
                )
            else:
                problems.append(f"{variable} is not set: set it (32+ random characters)")
        elif not dev and (problem := _problem(variable, value.get_secret_value())):
            problems.append(problem)
        if secret.previous is not None and not dev:
            previous_variable = env_name(settings, secret.previous)
            for old in split_secrets(getattr(settings, secret.previous)):
                if _problem(previous_variable, old):
                    problems.append(f"{previous_variable} holds a short or known development value: remove it")
                    break
    if problems:
        raise InsecureSecrets(f"refusing to start (PAYSAGA_ENV={platform.paysaga_env}): " + "; ".join(problems))
    return settings.model_copy(update=update) if update else settings
