"""`paysaga keys` and `paysaga token`: a key pair for the settings, an operator's token for curl."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from paysaga.platform.identity import ServiceIdentity, ServiceVerifier

pytestmark = pytest.mark.unit


def paysaga(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paysaga.cli", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_keys_prints_a_private_key_and_the_public_entry_that_verifies_it(tmp_path: Path) -> None:
    done = paysaga("keys", "bff", env={"PATH": "/usr/bin", "PAYSAGA_STATE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if not line.startswith("#")]
    private = lines[0].removeprefix("BFF_IDENTITY_KEY=")
    verifier = ServiceVerifier.from_text("wallet", lines[1])
    assert verifier.caller(ServiceIdentity.from_text("bff", private).token("wallet")) == "bff"


def test_token_signs_as_the_operators_tools_for_the_named_service(tmp_path: Path) -> None:
    done = paysaga("keys", "ops", env={"PATH": "/usr/bin"})
    private, public = [line for line in done.stdout.splitlines() if not line.startswith("#")]
    env = {"PATH": "/usr/bin", "PAYSAGA_STATE_DIR": str(tmp_path), private.split("=", 1)[0]: private.split("=", 1)[1]}
    token = paysaga("token", "notification", env=env)
    assert token.returncode == 0, token.stderr
    assert ServiceVerifier.from_text("notification", public).caller(token.stdout.strip()) == "ops"


def test_token_without_a_key_says_how_to_get_one_and_writes_nothing(tmp_path: Path) -> None:
    done = paysaga("token", "wallet", env={"PATH": "/usr/bin", "PAYSAGA_STATE_DIR": str(tmp_path / "none")})
    assert done.returncode != 0 and "OPS_IDENTITY_KEY" in done.stderr
    assert not (tmp_path / "none").exists()
