"""Rule matching: the first rule for the exact account, else the first "*", else SUCCESS."""

import pytest
from pydantic import ValidationError

from paysaga.services.provider_sim.rules import Plan, match, plan_for
from paysaga.services.provider_sim.schemas import Outcome, Rule, RuleSet

pytestmark = pytest.mark.unit


def rule(account: str, outcome: str, **extra: int) -> Rule:
    return Rule.model_validate({"accountNumber": account, "outcome": outcome, **extra})


def plan(rules: list[Rule], account: str) -> Plan:
    return plan_for(rules, account, default_delay_ms=20, late_success_delay_ms=3000)


def test_no_rules_means_success_after_the_default_delay() -> None:
    assert match([], "111") is None
    assert plan([], "111") == Plan(Outcome.SUCCESS, 20, 0)


def test_exact_account_wins_over_a_wildcard_listed_before_it() -> None:
    rules = [rule("*", "FAILED"), rule("111", "DECLINE")]
    assert match(rules, "111") is rules[1]
    assert plan(rules, "111").outcome is Outcome.DECLINE


def test_wildcard_applies_to_other_accounts() -> None:
    rules = [rule("111", "DECLINE"), rule("*", "FAILED", delayMs=5)]
    assert plan(rules, "222") == Plan(Outcome.FAILED, 5, 0)


def test_first_matching_rule_wins() -> None:
    rules = [rule("111", "NO_CALLBACK"), rule("111", "FAILED"), rule("*", "DECLINE"), rule("*", "FAILED")]
    assert plan(rules, "111").outcome is Outcome.NO_CALLBACK
    assert plan(rules, "999").outcome is Outcome.DECLINE


def test_no_match_without_wildcard_falls_back_to_success() -> None:
    assert plan([rule("111", "FAILED")], "222") == Plan(Outcome.SUCCESS, 20, 0)


def test_account_match_is_exact() -> None:
    rules = [rule("111", "FAILED")]
    assert match(rules, "1111") is None
    assert match(rules, " 111") is None


def test_delay_defaults() -> None:
    assert plan([rule("*", "FAILED")], "1").delay_ms == 20
    assert plan([rule("*", "LATE_SUCCESS")], "1").delay_ms == 3000
    assert plan([rule("*", "LATE_SUCCESS", delayMs=700)], "1").delay_ms == 700
    assert plan([rule("*", "LATE_SUCCESS_NO_CALLBACK")], "1").delay_ms == 3000
    assert plan([rule("*", "SUCCESS", delayMs=0)], "1").delay_ms == 0


def test_fail_times_defaults_to_one_and_only_counts_for_error_500_and_lost_response() -> None:
    assert plan([rule("*", "ERROR_500")], "1") == Plan(Outcome.ERROR_500, 20, 1)
    assert plan([rule("*", "ERROR_500", failTimes=3)], "1").fail_times == 3
    assert plan([rule("*", "LOST_RESPONSE", failTimes=4)], "1") == Plan(Outcome.LOST_RESPONSE, 20, 4)
    assert plan([rule("*", "FAILED", failTimes=3)], "1").fail_times == 0


@pytest.mark.parametrize(
    "body",
    [
        {"accountNumber": "1", "outcome": "MAYBE"},
        {"accountNumber": "", "outcome": "SUCCESS"},
        {"accountNumber": "1", "outcome": "SUCCESS", "delayMs": -1},
        {"accountNumber": "1", "outcome": "ERROR_500", "failTimes": 0},
        {"accountNumber": "1", "outcome": "SUCCESS", "delay": 5},  # a typo is not silently ignored
        {"outcome": "SUCCESS"},
    ],
)
def test_invalid_rules_are_rejected(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RuleSet.model_validate({"rules": [body]})


def test_rules_round_trip_in_camel_case() -> None:
    body = {"rules": [{"accountNumber": "*", "outcome": "ERROR_500", "delayMs": 5, "failTimes": 2}]}
    assert RuleSet.model_validate(body).model_dump(by_alias=True) == body
