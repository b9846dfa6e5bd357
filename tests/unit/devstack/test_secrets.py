"""The local platform's generated secrets: once per installation, 0600, shared where they must be."""

from __future__ import annotations

import stat
from pathlib import Path

from paysaga.contracts.bus import parties
from paysaga.devstack.secrets import FILE_NAME, dev_environment, dev_secrets, kafka_passwords
from paysaga.platform.identity import ServiceIdentity, ServiceVerifier
from paysaga.platform.secrets import KNOWN_DEV_VALUES


def test_generated_once_kept_private_and_shared_between_callback_and_the_simulator(tmp_path: Path) -> None:
    first = dev_secrets(tmp_path / "state")
    path = tmp_path / "state" / FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dev_secrets(tmp_path / "state") == first  # the same on every run of this installation
    assert first["CALLBACK_PROVIDER_SECRET"] == first["PROVIDER_SIM_CALLBACK_SECRET"]
    assert set(first) == {
        "BFF_JWT_SECRET",
        "OPS_JWT_SECRET",
        "CALLBACK_PROVIDER_SECRET",
        "PROVIDER_SIM_CALLBACK_SECRET",
        "PAYMENT_PROVIDER_API_KEY",
        "MERCHANT_CALLBACK_SECRETS_KEY",
        "BFF_IDENTITY_KEY",
        "PAYMENT_IDENTITY_KEY",
        "OPS_IDENTITY_KEY",
        "PAYSAGA_SERVICE_KEYS",
    }
    assert all(len(v) >= 32 and v not in KNOWN_DEV_VALUES for v in first.values())
    assert dev_secrets(tmp_path / "other") != first  # another installation, other secrets


def test_the_environment_sets_dev_mode_unless_the_caller_chose(tmp_path: Path) -> None:
    added = dev_environment(tmp_path, {})
    assert added["PAYSAGA_ENV"] == "dev" and "BFF_JWT_SECRET" in added
    chosen = dev_environment(tmp_path, {"PAYSAGA_ENV": "prod", "BFF_JWT_SECRET": "x" * 40})
    assert "PAYSAGA_ENV" not in chosen and "BFF_JWT_SECRET" not in chosen


def test_every_service_learns_the_public_keys_of_the_callers_private_keys(tmp_path: Path) -> None:
    values = dev_secrets(tmp_path)
    verifier = ServiceVerifier.from_text("wallet", values["PAYSAGA_SERVICE_KEYS"])
    for caller in ("bff", "payment", "ops"):
        identity = ServiceIdentity.from_text(caller, values[f"{caller.upper()}_IDENTITY_KEY"])
        assert verifier.caller(identity.token("wallet")) == caller


def test_an_installation_from_before_identity_keys_gains_them_and_keeps_its_secrets(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("BFF_JWT_SECRET=" + "j" * 40 + "\n")
    values = dev_secrets(tmp_path)
    assert values["BFF_JWT_SECRET"] == "j" * 40
    assert dev_secrets(tmp_path) == values
    assert "bff=" in values["PAYSAGA_SERVICE_KEYS"]


def test_one_kafka_password_per_principal_kept_out_of_the_shared_environment(tmp_path: Path) -> None:
    passwords = kafka_passwords(tmp_path)
    assert set(passwords) == {"admin", *parties()}
    assert len(set(passwords.values())) == len(passwords)  # each its own
    assert all(len(v) >= 32 for v in passwords.values())
    assert kafka_passwords(tmp_path) == passwords  # kept for the installation (the broker's storage has them)
    shared = {**dev_secrets(tmp_path), **dev_environment(tmp_path, {})}
    assert not set(passwords.values()) & set(shared.values()), "a Kafka password in every service's environment"


def test_a_kafka_password_missing_from_an_older_file_is_added_and_the_rest_kept(tmp_path: Path) -> None:
    before = dev_secrets(tmp_path)
    path = tmp_path / FILE_NAME
    path.write_text(
        "".join(line + "\n" for line in path.read_text().splitlines() if "KAFKA_PASSWORD_WALLET" not in line)
    )
    assert "wallet" not in _names(path)
    assert dev_secrets(tmp_path) == before
    assert "wallet" in kafka_passwords(tmp_path)


def _names(path: Path) -> set[str]:
    return {line.partition("=")[0].removeprefix("KAFKA_PASSWORD_").lower() for line in path.read_text().splitlines()}


def test_an_installation_from_before_the_ops_service_gains_its_token_key(tmp_path: Path) -> None:
    before = {name: value for name, value in dev_secrets(tmp_path).items() if name != "PAYSAGA_SERVICE_KEYS"}
    del before["OPS_JWT_SECRET"]
    (tmp_path / FILE_NAME).write_text("".join(f"{name}={value}\n" for name, value in before.items()))
    after = dev_secrets(tmp_path)
    assert len(after["OPS_JWT_SECRET"]) >= 32
    assert {name: after[name] for name in before} == before
