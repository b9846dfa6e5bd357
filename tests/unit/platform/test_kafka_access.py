"""How a process reaches Kafka comes from its settings (`KAFKA_*`): every client gets the same
credentials, and outside dev a SASL protocol without a strong password refuses the start."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from paysaga.platform.kafka import KafkaAccess, consumer_config, kafka_access
from paysaga.platform.secrets import InsecureSecrets
from paysaga.platform.settings import PlatformSettings

pytestmark = pytest.mark.unit

STRONG = "p" * 16 + "0123456789abcdef"


def settings(**fields: object) -> PlatformSettings:
    return PlatformSettings(kafka_bootstrap_servers="broker:9092", **fields)  # type: ignore[arg-type]


def test_plaintext_is_the_default_and_carries_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    conf = kafka_access(settings(paysaga_env="prod")).client_config()
    assert conf["security.protocol"] == "PLAINTEXT" and conf["bootstrap.servers"] == "broker:9092"
    assert not any(k.startswith(("sasl.", "ssl.")) for k in conf)


def test_sasl_credentials_reach_every_client_config() -> None:
    access = kafka_access(
        settings(
            paysaga_env="prod",
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_username="wallet",
            kafka_sasl_password=SecretStr(STRONG),
            kafka_ssl_ca_location="/etc/ca.pem",
        )
    )
    for conf in (access.client_config(), consumer_config(access, "wallet")):
        assert conf["security.protocol"] == "SASL_SSL"
        assert (conf["sasl.mechanism"], conf["sasl.username"], conf["sasl.password"]) == (
            "SCRAM-SHA-512",
            "wallet",
            STRONG,
        )
        assert conf["ssl.ca.location"] == "/etc/ca.pem"
    assert STRONG not in repr(access)  # never in a log line


@pytest.mark.parametrize(
    ("password", "why"),
    [(None, "KAFKA_SASL_PASSWORD is not set"), ("short-one", "KAFKA_SASL_PASSWORD is shorter than 32")],
)
def test_outside_dev_sasl_without_a_strong_password_refuses_the_start(password: str | None, why: str) -> None:
    platform = settings(
        paysaga_env="prod",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="wallet",
        kafka_sasl_password=None if password is None else SecretStr(password),
    )
    with pytest.raises(InsecureSecrets, match=why):
        kafka_access(platform)


def test_sasl_without_a_principal_refuses_the_start_in_any_mode() -> None:
    for env in ("prod", "dev"):
        with pytest.raises(InsecureSecrets, match="KAFKA_SASL_USERNAME is not set"):
            kafka_access(
                settings(paysaga_env=env, kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_password=STRONG)
            )


def test_the_environment_of_an_access_reads_back_as_the_same_access(monkeypatch: pytest.MonkeyPatch) -> None:
    access = KafkaAccess("b1:9092,b2:9092", "SASL_SSL", "SCRAM-SHA-512", "payment", STRONG, "/ca.pem")
    for name, value in access.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PAYSAGA_ENV", "prod")
    assert kafka_access(PlatformSettings()) == access
