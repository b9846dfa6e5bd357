"""The gRPC contract: checked-in generated code matches the .proto, imports as a package."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from paysaga.contracts.protos import antifraud_pb2, antifraud_pb2_grpc, generate

pytestmark = pytest.mark.unit


def test_checked_in_generated_modules_match_the_proto() -> None:
    stale = generate.write_generated(check=True)
    assert stale == [], f"run `python -m paysaga.contracts.protos.generate`; stale: {stale}"


def test_the_freshness_check_notices_an_edited_generated_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in generate.HERE.iterdir():
        if path.suffix in (".proto", ".py", ".pyi"):
            shutil.copy(path, tmp_path / path.name)
    edited = tmp_path / "antifraud_pb2_grpc.py"
    edited.write_text(edited.read_text() + "\n# hand edit\n")
    monkeypatch.setattr(generate, "HERE", tmp_path)
    assert generate.write_generated(check=True) == ["antifraud_pb2_grpc.py"]
    assert edited.read_text().endswith("# hand edit\n")  # --check never writes


def test_the_grpc_module_imports_the_messages_as_a_package_module() -> None:
    source = Path(antifraud_pb2_grpc.__file__).read_text()
    assert "from paysaga.contracts.protos import antifraud_pb2" in source
    assert "\nimport antifraud_pb2" not in source
    assert antifraud_pb2_grpc.paysaga_dot_contracts_dot_protos_dot_antifraud__pb2 is antifraud_pb2


def test_the_contract_names_and_fields() -> None:
    file = antifraud_pb2.DESCRIPTOR
    assert file.package == "paysaga.antifraud.v1"
    assert file.name == "paysaga/contracts/protos/antifraud.proto"
    method = file.services_by_name["AntiFraud"].methods_by_name["Check"]
    assert method.input_type.name == "CheckRequest" and method.output_type.name == "CheckResponse"
    assert antifraud_pb2.Decision.keys() == ["DECISION_UNSPECIFIED", "ALLOW", "DENY"]
    assert antifraud_pb2.CheckRequest.DESCRIPTOR.fields_by_name["amount"].type == 3  # TYPE_INT64
    assert [f.name for f in antifraud_pb2.CheckResponse.DESCRIPTOR.fields] == ["decision", "reason", "score"]


def test_messages_round_trip_on_the_wire() -> None:
    request = antifraud_pb2.CheckRequest(
        payment_id="p-1",
        user_id="u-1",
        wallet_id="w-1",
        amount=2**40,  # beyond int32: amounts are int64 minor units
        currency="RUB",
        recipient=antifraud_pb2.Recipient(account_number="40817810099910004312", bank_bic="044525225", name="I"),
    )
    decoded = antifraud_pb2.CheckRequest.FromString(request.SerializeToString())
    assert decoded == request and decoded.amount == 2**40
    assert not decoded.HasField("created_at")
    response = antifraud_pb2.CheckResponse(decision=antifraud_pb2.DENY, reason="AMOUNT_LIMIT", score=1.0)
    assert antifraud_pb2.CheckResponse.FromString(response.SerializeToString()).reason == "AMOUNT_LIMIT"
