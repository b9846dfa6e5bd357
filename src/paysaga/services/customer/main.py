"""Composition root of the Customer service."""

from paysaga.platform.assembly import service_parts
from paysaga.platform.bootstrap import init_process
from paysaga.platform.passwords import PasswordHashing
from paysaga.platform.runtime import Service, serve_forever
from paysaga.platform.settings import PlatformSettings
from paysaga.services.customer.app import build_app
from paysaga.services.customer.settings import CustomerSettings

NAME = "customer"


def build(settings: CustomerSettings | None = None, platform: PlatformSettings | None = None) -> Service:
    settings, platform = settings or CustomerSettings(), platform or PlatformSettings()
    init_process(NAME, platform)
    parts = service_parts(NAME, settings, platform, source="/paysaga/customer", relay=True)
    hashing = PasswordHashing(workers=settings.password_hash_workers, queue=settings.password_hash_queue)
    app = build_app(parts.db, parts.unit_of_work, readiness=parts.readiness(), hashing=hashing)
    return parts.service(app, on_close=[hashing.aclose])


if __name__ == "__main__":
    serve_forever(build)
