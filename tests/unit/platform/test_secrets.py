"""The start-up check of a service's secrets (SPEC §11): refused outside dev, random in dev."""

from __future__ import annotations

import pytest
import structlog
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from paysaga.platform.secrets import KNOWN_DEV_VALUES, InsecureSecrets, Secret, require_secrets, reveal
from paysaga.platform.settings import PlatformSettings, ServiceSettings

GOOD = "k" * 16 + "0123456789abcdef"  # 32 characters


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")

    api_secret: SecretStr | None = Field(default=None)
    api_previous_secrets: str = Field(default="")


FIELDS = [Secret("api_secret", previous="api_previous_secrets")]
PROD = PlatformSettings(paysaga_env="prod")
DEV = PlatformSettings(paysaga_env="dev")


def test_prod_is_the_default_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYSAGA_ENV", raising=False)
    assert PlatformSettings().paysaga_env == "prod"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "DEMO_API_SECRET is not set"),
        ("", "DEMO_API_SECRET is not set"),
        ("too-short-0123456789", "DEMO_API_SECRET is shorter than 32"),
        *[(known, "DEMO_API_SECRET is a known development value") for known in sorted(KNOWN_DEV_VALUES)],
    ],
)
def test_outside_dev_a_missing_short_or_known_secret_is_refused_naming_the_variable(
    value: str | None, why: str
) -> None:
    settings = DemoSettings(api_secret=None if value is None else SecretStr(value))
    with pytest.raises(InsecureSecrets) as refused:
        require_secrets(settings, PROD, FIELDS)
    assert why in str(refused.value.code)
    assert refused.value.code != 0  # SystemExit with a message: exit status 1, message on stderr


def test_every_known_dev_value_is_refused_even_when_long_enough() -> None:
    long_ones = [v for v in KNOWN_DEV_VALUES if len(v) >= 32]
    assert long_ones
    for value in long_ones:
        with pytest.raises(InsecureSecrets, match="known development value"):
            require_secrets(DemoSettings(api_secret=SecretStr(value)), PROD, FIELDS)


def test_a_short_or_known_previous_secret_is_refused_too() -> None:
    settings = DemoSettings(api_secret=SecretStr(GOOD), api_previous_secrets=f"{GOOD[::-1]},short")
    with pytest.raises(InsecureSecrets, match="DEMO_API_PREVIOUS_SECRETS"):
        require_secrets(settings, PROD, FIELDS)


def test_a_good_secret_passes_unchanged() -> None:
    settings = DemoSettings(api_secret=SecretStr(GOOD), api_previous_secrets=f"{GOOD[::-1]}, ")
    checked = require_secrets(settings, PROD, FIELDS)
    assert reveal(checked.api_secret) == GOOD


def test_in_dev_a_missing_secret_is_random_for_the_process_with_a_warning() -> None:
    with structlog.testing.capture_logs() as logs:
        first = require_secrets(DemoSettings(), DEV, FIELDS)
        second = require_secrets(DemoSettings(), DEV, FIELDS)
    assert len(reveal(first.api_secret)) >= 32
    assert reveal(first.api_secret) != reveal(second.api_secret)
    warnings = [e for e in logs if e["event"] == "secrets.generated"]
    assert len(warnings) == 2 and warnings[0]["variable"] == "DEMO_API_SECRET"
    assert warnings[0]["log_level"] == "warning"


def test_in_dev_a_given_secret_is_kept() -> None:
    checked = require_secrets(DemoSettings(api_secret=SecretStr("short-dev-secret")), DEV, FIELDS)
    assert reveal(checked.api_secret) == "short-dev-secret"
