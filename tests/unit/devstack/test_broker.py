"""The local Kafka node: its cluster id, its security, and the storage it accepts."""

from __future__ import annotations

import base64
import stat
import uuid
from pathlib import Path

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


def _node(tmp_path: Path, password: str = "a" * 43) -> broker.KafkaNode:
    return broker.KafkaNode(tmp_path / "kafka", tmp_path / "libs", port=1, controller_port=2, admin_password=password)


def _formatted(node: broker.KafkaNode) -> None:
    """A storage as the storage tool leaves it (without running Java)."""
    (node.data_dir / "log").mkdir(parents=True, exist_ok=True)
    (node.data_dir / "log" / "meta.properties").write_text("node.id=1\n")


def test_the_broker_authenticates_and_authorizes_every_listener(tmp_path: Path) -> None:
    node = _node(tmp_path)
    _formatted(node)
    (node.data_dir / "admin-password.sha256").write_text(node._admin_digest())
    assert node.ensure_formatted() is False
    props = dict(line.split("=", 1) for line in node.properties_file.read_text().splitlines() if "=" in line)
    assert stat.S_IMODE(node.properties_file.stat().st_mode) == 0o600  # it holds the admin password
    assert props["listener.security.protocol.map"] == "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
    assert props["listener.name.client.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["super.users"] == "User:admin"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert "PLAINTEXT://" not in props["listeners"]


@pytest.mark.parametrize(("stamp", "why"), [(None, "before SASL"), ("b" * 43, "for another admin password")])
def test_a_storage_formatted_before_sasl_or_for_another_admin_is_refused(
    tmp_path: Path, stamp: str | None, why: str
) -> None:
    node = _node(tmp_path)
    _formatted(node)
    if stamp is not None:
        (node.data_dir / "admin-password.sha256").write_text(_node(tmp_path, stamp)._admin_digest())
    with pytest.raises(broker.StorageOfAnotherAdmin, match=why):
        node.ensure_formatted()
