"""The OpenAPI document, completed so a client can trust it.

FastAPI documents success responses and 422; this fills in what the service does besides:
every error status a route can answer is declared with the RFC 9457 problem schema
(`application/problem+json`), operation ids are the route functions' names (stable across
releases; unique, checked by a test), and the bearer scheme is declared on every protected
operation. The expensive queries declare their 429 (service/auth/ratelimit.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from service.auth.ratelimit import EXPENSIVE_OPERATIONS

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
    "example": {
        "type": "https://declass.dev/problems/not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "No cable 99NOWHERE1",
    },
}

DESCRIPTIONS = {
    "400": "Bad request (for example a cursor this service did not issue)",
    "401": "Missing, invalid or expired bearer token",
    "403": "The caller's role or clearance does not allow this",
    "404": "No such resource",
    "409": "Conflicts with the current state",
    "412": "If-Match is stale",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "422": "The request is not valid",
    "428": "If-Match is required",
    "429": "Too many requests; see Retry-After",
    "503": "The database is unavailable or the change could not be recorded; retry later",
}

PUBLIC_PATHS = ("/healthz", "/readyz", "/metrics", "/api/v1/auth/token")
BODY_METHODS = ("post", "put", "patch")
RATE_LIMITED = {(method, path) for method, path, _group in EXPENSIVE_OPERATIONS}


def operation_id(route: APIRoute) -> str:
    """The route function's name: stable, readable, unique (a test checks uniqueness)."""
    return route.name


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def _statuses(path: str, method: str, operation: dict[str, Any], public: bool) -> set[str]:
    params = operation.get("parameters", [])
    names = {str(p.get("name", "")).lower() for p in params}
    statuses = {"503"}
    if not public:
        statuses |= {"401", "403"}
    if params or "requestBody" in operation:
        statuses.add("422")
    if "{" in path:
        statuses.add("404")
    if "cursor" in names:
        statuses.add("400")
    if "if-match" in names:
        statuses |= {"412", "428"}
    if method in BODY_METHODS:
        statuses |= {"409", "413", "415"}
    if path == "/api/v1/auth/token":
        statuses |= {"400", "401", "429"}
    if "idempotency-key" in names:
        statuses.add("400")  # a malformed key
    if (method.upper(), path) in RATE_LIMITED:
        statuses.add("429")
    return statuses


def complete_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the problem responses of every operation (keeping route-given descriptions)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, item in schema.get("paths", {}).items():
        public = path in PUBLIC_PATHS or not path.startswith("/api/")
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            declared = {code for code in responses if code.isdigit() and int(code) >= 400}
            for code in sorted(_statuses(path, method, operation, public) | declared):
                given = responses.get(code, {})
                responses[code] = _problem_response(
                    given.get("description") or DESCRIPTIONS.get(code, "Error")
                )
    return schema


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with the completed document (built once, then cached)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete_openapi(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
