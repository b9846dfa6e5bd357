"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from paysaga.platform.kafka import KafkaProducer
from tests.support.infra import Infra


@pytest.fixture
async def producer(infra: Infra) -> AsyncIterator[KafkaProducer]:
    """An idempotent producer on the session's broker (dead letters, test events)."""
    p = KafkaProducer(infra.kafka, client_id="test")
    yield p
    await p.close()
