"""Composition root of the Payment service."""

from paysaga.platform.assembly import service_parts
from paysaga.platform.bootstrap import init_process
from paysaga.platform.identity import service_identity
from paysaga.platform.periodic import Periodic
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.secrets import Secret, require_secrets, reveal
from paysaga.platform.settings import PlatformSettings
from paysaga.services.payment import metrics
from paysaga.services.payment.app import build_app
from paysaga.services.payment.consumers import build_handlers
from paysaga.services.payment.fraud_client import FraudClient
from paysaga.services.payment.handlers import Steps
from paysaga.services.payment.late_inquiries import LateInquiries
from paysaga.services.payment.orphans import OrphanCallbacks
from paysaga.services.payment.processor import PaymentProcessor
from paysaga.services.payment.provider_client import ProviderClient
from paysaga.services.payment.settings import PaymentSettings

NAME = "payment"


def build(settings: PaymentSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or PaymentSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    settings = require_secrets(settings, platform, [Secret("provider_api_key", shared=True), Secret("identity_key")])
    identity = service_identity(NAME, reveal(settings.identity_key), "PAYMENT_IDENTITY_KEY")
    parts = service_parts(NAME, settings, platform, source="/paysaga/payment", relay=True)
    db, source = parts.db, parts.source
    fraud = FraudClient(
        settings.antifraud_target, deadline_seconds=settings.antifraud_deadline_seconds, identity=identity
    )
    provider = ProviderClient(
        settings.provider_url,
        api_key=reveal(settings.provider_api_key),
        callback_url=settings.callback_url,
        timeout=settings.provider_timeout_seconds,
    )
    processor = PaymentProcessor(
        Steps(db, fraud, provider, settings, source=source),
        batch=settings.worker_batch,
        lease_seconds=settings.lease_seconds,
        poll_seconds=settings.worker_poll_seconds,
    )
    orphans = OrphanCallbacks(
        db,
        provider,
        source=source,
        older_than_seconds=settings.orphan_callback_after_seconds,
        retry_after_seconds=settings.orphan_retry_after_seconds,
    )
    late_inquiries = LateInquiries(db, provider, source=source, interval_seconds=settings.late_inquiry_interval_seconds)
    consumer = parts.consumer(build_handlers(settings, processor.wake), group_id=settings.consumer_group)
    app = build_app(db, readiness=parts.readiness())
    return parts.service(
        app,
        consumers=[consumer],
        workers={
            "worker": processor,
            "orphan-callbacks": Periodic(
                "orphan-callbacks", orphans.sweep, every_seconds=settings.orphan_sweep_interval_seconds
            ),
            "late-inquiries": Periodic(
                "late-inquiries", late_inquiries.sweep, every_seconds=settings.late_inquiry_sweep_interval_seconds
            ),
            "payment-metrics": metrics.gauges(
                db,
                stuck_after_seconds=settings.stuck_after_seconds,
                every_seconds=platform.paysaga_metrics_interval_seconds,
            ),
        },
        on_close=[fraud.close, provider.close],
    )


if __name__ == "__main__":
    serve_forever(build)
