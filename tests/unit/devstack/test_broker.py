"""The local Kafka node's cluster id."""

from __future__ import annotations

import base64
import uuid

import pytest

from paysaga.devstack import broker


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # uuid bytes whose url-safe base64 starts with "-" (0xf8 → "-"), then ordinary ones.
    dash = uuid.UUID(bytes=b"\xf8" + bytes(15))
    plain = uuid.UUID(bytes=bytes(16))
    draws = iter([dash, dash, plain])
    monkeypatch.setattr(broker.uuid, "uuid4", lambda: next(draws))
    assert base64.urlsafe_b64encode(dash.bytes).decode().startswith("-")
    assert broker.new_cluster_id() == "AAAAAAAAAAAAAAAAAAAAAA"


def test_a_cluster_id_is_22_url_safe_characters() -> None:
    for _ in range(200):
        cluster_id = broker.new_cluster_id()
        assert len(cluster_id) == 22 and not cluster_id.startswith("-")
        assert set(cluster_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
