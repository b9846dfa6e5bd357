"""The simulator's HTTP API: the bank's payout API (/v1) and the test controls (/_sim)."""

from typing import Annotated

from fastapi import FastAPI, Header, Query, Response, status

from paysaga.platform.http import create_app
from paysaga.platform.tracing import current_traceparent
from paysaga.services.provider_sim.schemas import (
    CallbackAttemptView,
    PayoutAccepted,
    PayoutRequest,
    PayoutView,
    RuleSet,
    SimPayout,
)
from paysaga.services.provider_sim.signing import SIGNATURE_HEADER
from paysaga.services.provider_sim.simulator import Simulator

REPLAY_HEADER = "Idempotent-Replayed"


def build_app(sim: Simulator) -> FastAPI:
    app = create_app(
        title="PaySaga provider simulator",
        description=(
            "Stand-in for the external bank. Accepts payouts once per paymentId, then POSTs a callback "
            f"signed in the `{SIGNATURE_HEADER}` header (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "
            '"<t>.<raw body>">`), retrying until a 2xx. Behaviour is scripted through /_sim/rules. '
            "Errors are RFC 9457 problems."
        ),
    )

    @app.post(
        "/v1/payouts",
        status_code=status.HTTP_201_CREATED,
        response_model=PayoutAccepted,
        tags=["payouts"],
        summary="Send a payout (idempotent on paymentId)",
        description=(
            "201 with the provider's transaction id. The same paymentId again returns the same "
            f"providerTxnId (with `{REPLAY_HEADER}: true`); a different body for it → 409. "
            "A declined payout → 422 `payout-declined`."
        ),
    )
    async def create_payout(
        body: PayoutRequest,
        response: Response,
        idempotency_key: Annotated[
            str | None,
            Header(alias="Idempotency-Key", description="Optional; must equal paymentId when sent"),
        ] = None,
    ) -> PayoutAccepted:
        accepted = await sim.accept(body, idempotency_key, current_traceparent())
        txn_id = accepted.payout.provider_txn_id
        response.headers["Location"] = f"/v1/payouts/{txn_id}"
        if accepted.replayed:
            response.headers[REPLAY_HEADER] = "true"
        return PayoutAccepted(provider_txn_id=txn_id)

    @app.get(
        "/v1/payouts/{provider_txn_id}",
        response_model=PayoutView,
        tags=["payouts"],
        summary="Status inquiry of a payout",
    )
    async def get_payout(provider_txn_id: str) -> PayoutView:
        payout = sim.get(provider_txn_id)
        return PayoutView(provider_txn_id=payout.provider_txn_id, payment_id=payout.payment_id, status=payout.status)

    @app.get("/_sim/rules", response_model=RuleSet, tags=["simulator"], summary="The current rules")
    async def get_rules() -> RuleSet:
        return RuleSet(rules=sim.rules())

    @app.put(
        "/_sim/rules",
        response_model=RuleSet,
        tags=["simulator"],
        summary="Replace the rules",
        description='First match wins: the first rule for the exact accountNumber, else the first "*".',
    )
    async def put_rules(body: RuleSet) -> RuleSet:
        sim.set_rules(body.rules)
        return RuleSet(rules=sim.rules())

    @app.delete(
        "/_sim/rules",
        response_model=RuleSet,
        tags=["simulator"],
        summary="Reset the rules (every payout succeeds after the default delay)",
    )
    async def delete_rules() -> RuleSet:
        sim.reset_rules()
        return RuleSet(rules=sim.rules())

    @app.get(
        "/_sim/payouts",
        response_model=list[SimPayout],
        tags=["simulator"],
        summary="Payout requests received and payouts created, per paymentId",
    )
    async def list_payouts(
        payment_id: Annotated[str | None, Query(alias="paymentId")] = None,
    ) -> list[SimPayout]:
        return sim.payouts(payment_id)

    @app.get(
        "/_sim/callbacks",
        response_model=list[CallbackAttemptView],
        tags=["simulator"],
        summary="Callback delivery attempts, oldest first",
    )
    async def list_callbacks(
        provider_txn_id: Annotated[str | None, Query(alias="providerTxnId")] = None,
    ) -> list[CallbackAttemptView]:
        return sim.callback_attempts(provider_txn_id)

    return app
