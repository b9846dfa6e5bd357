"""The OpenAPI documents the browser apps generate their typed clients from.

`paysaga openapi` writes the BFF's document to `web/customer/openapi.json` and the Ops service's to
`web/console/openapi.json`; `paysaga openapi --check` (in `make test`) fails while a checked-in copy
differs from what the code serves, so an API change that the apps have not picked up fails the build.
"""

from __future__ import annotations

import importlib
import json
import typing
from pathlib import Path
from typing import Any

from paysaga.platform.settings import PlatformSettings

REPO_ROOT = Path(__file__).resolve().parents[3]

# service -> the app folder whose client is generated from its document
DOCUMENTS: dict[str, Path] = {
    "bff": REPO_ROOT / "web" / "customer" / "openapi.json",
    "ops": REPO_ROOT / "web" / "console" / "openapi.json",
}

# Building a service's app opens no connection; these addresses are never dialled.
_OFFLINE = PlatformSettings(
    kafka_bootstrap_servers="127.0.0.1:9",
    paysaga_postgres_url="postgresql://paysaga@127.0.0.1:9/paysaga",
    paysaga_env="dev",
    paysaga_log_level="ERROR",
)


def openapi_document(service: str) -> dict[str, Any]:
    """The OpenAPI document a service serves at /openapi.json."""
    main = importlib.import_module(f"paysaga.services.{service}.main")
    settings_cls = typing.get_args(typing.get_type_hints(main.build)["settings"])[0]  # X of `X | None`
    built = main.build(settings=settings_cls(), platform=_OFFLINE)
    document: dict[str, Any] = built.app.openapi()
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_documents(*, check: bool) -> list[str]:
    """Rewrite (or with `check`, compare) every document; the paths that were stale."""
    stale: list[str] = []
    for service, path in DOCUMENTS.items():
        if not path.parent.exists():
            continue  # that app is not in this tree
        text = render(openapi_document(service))
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        stale.append(str(path.relative_to(REPO_ROOT)))
        if not check:
            path.write_text(text)
    return stale
