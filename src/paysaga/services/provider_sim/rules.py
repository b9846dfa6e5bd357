"""Which outcome a payout gets: the first rule for its account, else the first "*", else SUCCESS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from paysaga.services.provider_sim.schemas import Outcome, Rule

WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class Plan:
    outcome: Outcome
    delay_ms: int
    fail_times: int


def match(rules: Sequence[Rule], account_number: str) -> Rule | None:
    """The first rule for exactly this account; failing that the first "*" rule; else None."""
    exact = next((r for r in rules if r.account_number == account_number), None)
    if exact is not None:
        return exact
    return next((r for r in rules if r.account_number == WILDCARD), None)


def plan_for(rules: Sequence[Rule], account_number: str, *, default_delay_ms: int, late_success_delay_ms: int) -> Plan:
    rule = match(rules, account_number)
    if rule is None:
        return Plan(Outcome.SUCCESS, default_delay_ms, 0)
    if rule.delay_ms is not None:
        delay_ms = rule.delay_ms
    elif rule.outcome in (Outcome.LATE_SUCCESS, Outcome.LATE_SUCCESS_NO_CALLBACK):
        delay_ms = late_success_delay_ms
    else:
        delay_ms = default_delay_ms
    fail_times = rule.fail_times if rule.outcome in (Outcome.ERROR_500, Outcome.LOST_RESPONSE) else 0
    return Plan(rule.outcome, delay_ms, fail_times)
