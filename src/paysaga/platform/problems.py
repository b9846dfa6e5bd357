"""RFC 9457 problem details: every HTTP error of the platform is `application/problem+json`."""

from __future__ import annotations

from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"


class Problem(Exception):
    """An error answer. `slug` becomes the `type` URI: `/problems/<slug>`."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": PROBLEM_BASE + self.slug, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


def not_found(detail: str) -> Problem:
    return Problem(404, "not-found", "Not found", detail)


def unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


# --- the problems in the OpenAPI documents -------------------------------------------------------

PROBLEM_COMPONENT = "Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": PROBLEM_COMPONENT,
    "description": "RFC 9457 problem details. `type` is `/problems/<slug>`; some types carry extension members "
    "(`errors` of a validation error, `available` of insufficient funds, ...).",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "The problem type: `/problems/<slug>`"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The request path"},
    },
    "additionalProperties": True,
}
_PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM_COMPONENT}"}

ProblemTypes = dict[int, set[str]]


def _problem_response(status: int, slugs: set[str]) -> dict[str, Any]:
    types = sorted(PROBLEM_BASE + slug for slug in slugs)
    schema = {
        "allOf": [
            _PROBLEM_REF,
            {"type": "object", "properties": {"type": {"enum": types}, "status": {"const": status}}},
        ]
    }
    return {
        "description": "Problem details (RFC 9457): " + ", ".join(f"`{t}`" for t in types),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}},
        "x-problem-types": types,
    }


def problems(*declared: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=`: every problem it can answer besides the platform's own, as
    `(status, slug)` pairs. `platform.http` adds those every route of its kind can give (a validation
    error where it takes input, a refused caller where it names its callers, ...)."""
    by_status: ProblemTypes = {}
    for status, slug in declared:
        by_status.setdefault(status, set()).add(slug)
    return {status: _problem_response(status, slugs) for status, slugs in sorted(by_status.items())}


def add_problems(responses: dict[str, Any], *declared: tuple[int, str]) -> None:
    """Merge more problem types into an operation's responses in an OpenAPI document (a status
    already declared keeps its other types)."""
    for status, slug in declared:
        current = responses.get(str(status))
        slugs = {slug}
        if current is not None:
            slugs |= {t.removeprefix(PROBLEM_BASE) for t in current.get("x-problem-types", [])}
        responses[str(status)] = _problem_response(status, slugs)


def server_errors() -> dict[int | str, dict[str, Any]]:
    """Every operation's `5XX`: a failure on our side (500 `internal-error`, 503 `overloaded`, a
    dependency `service-unavailable`, ...), always a problem; retry later."""
    return {
        "5XX": {
            "description": "Problem details (RFC 9457): the request failed on the server's side; retry later",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}},
        }
    }
