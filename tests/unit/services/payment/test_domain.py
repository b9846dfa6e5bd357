import pytest

from paysaga.services.payment.domain import (
    CaseKind,
    ErrorCode,
    Status,
    callback_case,
    outcome_of_callback,
)

pytestmark = pytest.mark.unit


def test_callback_outcomes() -> None:
    assert outcome_of_callback("SUCCESS") == (Status.COMPLETED, None)
    assert outcome_of_callback("FAILED") == (Status.FAILED, ErrorCode.PROVIDER_DECLINED)
    with pytest.raises(ValueError):
        outcome_of_callback("PROCESSING")


@pytest.mark.parametrize(
    ("current", "callback", "case"),
    [
        (Status.COMPLETED, "SUCCESS", None),
        (Status.FAILED, "FAILED", None),
        (Status.FAILED, "SUCCESS", CaseKind.LATE_SUCCESS),
        (Status.COMPLETED, "FAILED", CaseKind.CONFLICTING_CALLBACK),
    ],
)
def test_callbacks_for_final_payments(current: Status, callback: str, case: CaseKind | None) -> None:
    assert callback_case(current, callback) is case


def test_final_states() -> None:
    assert {s for s in Status if s.final} == {Status.COMPLETED, Status.FAILED}
