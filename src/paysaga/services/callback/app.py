"""The endpoint the provider calls with payout outcomes."""

from __future__ import annotations

import orjson
import structlog
from fastapi import FastAPI, Request
from pydantic import ValidationError

from paysaga.contracts.signatures import SIGNATURE_HEADER, verify_signature
from paysaga.platform.http import ReadinessCheck, create_app
from paysaga.platform.kafka import KafkaProducer
from paysaga.platform.problems import Problem
from paysaga.platform.secrets import reveal, split_secrets
from paysaga.services.callback.handlers import publish_callback
from paysaga.services.callback.schemas import Acknowledged, ProviderCallback
from paysaga.services.callback.settings import CallbackSettings

log = structlog.get_logger("paysaga.callback")


def build_app(
    settings: CallbackSettings, producer: KafkaProducer, *, source: str, readiness: dict[str, ReadinessCheck]
) -> FastAPI:
    app = create_app(
        title="PaySaga Callback",
        description="Receives the provider's signed callbacks and publishes ProviderCallbackReceived "
        "to callback-events. Answers 2xx only once Kafka acknowledged.",
        readiness=readiness,
    )
    # The active secret first, then the former ones still accepted while the provider rotates.
    accepted = [reveal(settings.provider_secret), *split_secrets(settings.provider_previous_secrets)]
    tolerance = settings.signature_tolerance_seconds

    def signed_by_the_provider(body: bytes, header: str) -> bool:
        return any(verify_signature(s, body, header, tolerance_seconds=tolerance) for s in accepted)

    @app.post(
        "/v1/provider/callbacks",
        response_model=Acknowledged,
        summary="A payout outcome from the provider (HMAC-SHA256 signed over `timestamp.body`)",
        openapi_extra={
            "requestBody": {"content": {"application/json": {"schema": ProviderCallback.model_json_schema()}}},
            "parameters": [
                {
                    "name": SIGNATURE_HEADER,
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "example": "t=1700000000,v1=5257a8..."},
                }
            ],
        },
    )
    async def receive(request: Request) -> Acknowledged:
        body = await request.body()
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not signed_by_the_provider(body, header):
            log.warning("callback.bad_signature", has_header=bool(header))
            raise Problem(
                401,
                "invalid-signature",
                "Invalid signature",
                f"The {SIGNATURE_HEADER} header is missing, stale or does not sign the body.",
            )
        try:
            callback = ProviderCallback.model_validate(orjson.loads(body))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise Problem(422, "validation-error", "The callback is not valid", str(exc)[:1000]) from exc
        try:
            await publish_callback(callback, producer, source=source, timeout=settings.publish_timeout_seconds)
        except Exception as exc:
            log.error("callback.publish_failed", provider_txn_id=callback.provider_txn_id, error=repr(exc))
            raise Problem(
                503,
                "service-unavailable",
                "Not recorded",
                "The callback could not be recorded; retry it.",
                headers={"Retry-After": "1"},
            ) from exc
        return Acknowledged()

    return app
