"""Domain errors carry their HTTP meaning; one set of handlers renders every error as
RFC 9457 problem details (`application/problem+json`).

Services raise these (never FastAPI's HTTPException); routers do not catch them. Validation
errors, unknown routes, 405s, integrity errors and unexpected exceptions are rendered here
too, so a client never sees a bare 500 or a stack trace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://declass.dev/problems/"

log = structlog.get_logger(__name__)


class DomainError(Exception):
    """Base of every error a service may raise; `status` is its HTTP meaning."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class BadRequest(DomainError):
    status, slug = 400, "bad-request"


class Unauthorized(DomainError):
    status, slug = 401, "unauthorized"

    def __init__(self, detail: str = "A valid bearer token is required", **kw: Any) -> None:
        headers = {"WWW-Authenticate": 'Bearer realm="declass"', **kw.pop("headers", {})}
        super().__init__(detail, headers=headers, **kw)


class Forbidden(DomainError):
    status, slug = 403, "forbidden"


class NotFound(DomainError):
    status, slug = 404, "not-found"


class Conflict(DomainError):
    status, slug = 409, "conflict"


class InvalidTransition(Conflict):
    slug = "invalid-transition"


class PreconditionFailed(DomainError):
    status, slug = 412, "precondition-failed"


class PayloadTooLarge(DomainError):
    status, slug = 413, "payload-too-large"


class UnsupportedMediaType(DomainError):
    status, slug = 415, "unsupported-media-type"


class Unprocessable(DomainError):
    status, slug = 422, "unprocessable"


class PreconditionRequired(DomainError):
    status, slug = 428, "precondition-required"


class TooManyRequests(DomainError):
    status, slug = 429, "too-many-requests"


class ServiceUnavailable(DomainError):
    status, slug = 503, "service-unavailable"


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """Render one problem+json response."""
    title = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = list(errors)
    if extra:
        body.update(extra)
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {})
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        # Never echo the input back: it may be classified text or a password.
        out.append(
            {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", ""))}
        )
    return out


async def _on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem(
        exc.status,
        exc.detail,
        slug=exc.slug,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem(
        422, "The request is not valid", slug="validation-error", errors=_validation_errors(exc)
    )


async def _on_http_exception(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No such resource"
    if exc.status_code == 405:
        detail = "This method is not allowed on this resource"
    return problem(exc.status_code, detail, headers=exc.headers)


async def _on_integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("integrity_error", error=type(exc).__name__)
    return problem(409, "The change conflicts with the stored data", slug="conflict")


async def _on_operational_error(_request: Request, exc: Exception) -> JSONResponse:
    log.error("database_unavailable", error=type(exc).__name__)
    return problem(
        503,
        "The database is unavailable; try again shortly",
        slug="service-unavailable",
        headers={"Retry-After": "5"},
    )


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", error=type(exc).__name__)
    return problem(500, "An unexpected error occurred; it has been logged", slug="internal")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(IntegrityError, _on_integrity_error)
    app.add_exception_handler(OperationalError, _on_operational_error)
    app.add_exception_handler(PoolTimeoutError, _on_operational_error)
    app.add_exception_handler(Exception, _on_unexpected)
