"""Every HTTP API of the platform accepts and answers exactly what its OpenAPI document says.

schemathesis reads each running service's /openapi.json and sends what the document allows and
what it forbids (its examples, the boundaries of every constraint, random fuzzing), with all of its
checks: no 5xx, no schema-valid request rejected, no invalid one accepted, every status, header,
content type and body as documented, authentication enforced, 405 with `Allow` for other methods.
Settings (seed, examples per operation) are in contract/schemathesis.toml, the fuzzer's identity
and the payout rules JSON Schema cannot state in contract/hooks.py. A failure prints schemathesis'
report: each finding with a curl command that reproduces it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from paysaga.contracts.identities import CALLERS
from paysaga.services.notification.domain import Channel
from tests.e2e.test_ops import create_operator, login
from tests.support.platform import RunningPlatform
from tests.support.saga import register

# The runs go on in the background from the first test on; a test waits for its API's run, the
# first of them for the longest (pytest-timeout's default is per test).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

HERE = Path(__file__).parent / "contract"
REPO = Path(__file__).resolve().parents[2]
# The internal APIs: every route names the services it lets in (the callers' identity tokens).
INTERNAL = ["customer", "wallet", "payment", "query", "antifraud", "core_banking", "notification"]
INTERNAL += ["merchant_callback", "dwh"]
# The fuzzing customer pays out many times, up to the largest amount a payout may have.
TOP_UPS = 50
PARALLEL_RUNS = 3


def schemathesis_run(platform: RunningPlatform, service: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "--no-color",
            "run",
            f"{platform.url(service)}/openapi.json",
        ],
        env={
            **os.environ,
            **{f"{c.upper()}_IDENTITY_KEY": platform.env[f"{c.upper()}_IDENTITY_KEY"] for c in CALLERS},
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
            "SCHEMATHESIS_HOOKS": "tests.e2e.contract.hooks",
            "CONTRACT_AUDIENCE": service,
            **env,
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_conforms(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def customer_token(platform: RunningPlatform) -> Iterator[str]:
    """A customer with money for every payout the fuzzer makes."""
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
        customer = register(client)
        for _ in range(TOP_UPS):
            customer.top_up(100_000_000_000)
        yield customer.token


@pytest.fixture(scope="module")
def operator_token(platform: RunningPlatform) -> str:
    email = f"contract-{uuid.uuid4().hex[:8]}@example.org"
    create_operator(platform, email)
    with httpx.Client(base_url=platform.url("ops"), timeout=10) as client:
        response = login(client, email)
    assert response.status_code == 200, response.text
    token: str = response.json()["accessToken"]
    return token


@pytest.fixture(scope="module")
def runs(
    platform: RunningPlatform, customer_token: str, operator_token: str
) -> Iterator[dict[str, Future[subprocess.CompletedProcess[str]]]]:
    """Every API's schemathesis run, started at once, a few at a time: each waits on the services
    (PostgreSQL, Kafka, password hashing) more than on the CPU."""
    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        started = {
            "bff": pool.submit(schemathesis_run, platform, "bff", CONTRACT_BEARER=customer_token),
            "ops": pool.submit(schemathesis_run, platform, "ops", CONTRACT_BEARER=operator_token),
            **{service: pool.submit(schemathesis_run, platform, service) for service in INTERNAL},
        }
        yield started
    restore_simulated_gateways(platform)


def restore_simulated_gateways(platform: RunningPlatform) -> None:
    """The fuzzer made Notification's simulated gateways slow or failing (a valid request): the e2e tests
    that share this platform after it expect them as they start, quick and reliable."""
    for channel in Channel:
        restored = httpx.put(
            f"{platform.url('notification')}/v1/gateways/{channel.value.lower()}/behaviour",
            json={"delayMs": 0, "failTimes": 0, "failRate": 0.0},
            auth=platform.auth("notification"),
            timeout=10,
        )
        assert restored.status_code == 200, restored.text


def test_the_bff_answers_as_its_document_says(runs: dict[str, Future[subprocess.CompletedProcess[str]]]) -> None:
    assert_conforms(runs["bff"].result())


def test_the_ops_service_answers_as_its_document_says(
    runs: dict[str, Future[subprocess.CompletedProcess[str]]],
) -> None:
    assert_conforms(runs["ops"].result())


@pytest.mark.parametrize("service", INTERNAL)
def test_each_internal_api_answers_as_its_document_says(
    runs: dict[str, Future[subprocess.CompletedProcess[str]]], service: str
) -> None:
    assert_conforms(runs[service].result())
