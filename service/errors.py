"""Domain errors carry their HTTP meaning; one set of handlers renders every error as
RFC 9457 problem details (`application/problem+json`).

Services raise these (never FastAPI's HTTPException); routers do not catch them. Validation
errors, unknown routes, 405s, integrity errors and unexpected exceptions are rendered here
too, so a client never sees a bare 500 or a stack trace.

Database faults (`classify_database_error`) are the server's trouble, not the client's: a
busy (locked), full, read-only or unreachable database gives 503 with a `Retry-After` and
a title naming which; the body never carries the SQL, its parameters or the driver's
message, and the log line only the error class and the driver's code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
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
    title: str | None = None,
) -> JSONResponse:
    """Render one problem+json response; the title defaults to the status's phrase."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or phrase.lower().replace(" ", "-")),
        "title": title or phrase,
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


@dataclass(frozen=True, slots=True)
class DatabaseFault:
    """How one class of database failure is told to the client (always a 503)."""

    slug: str
    title: str
    detail: str
    retry_after_seconds: int


DATABASE_BUSY = DatabaseFault(
    "database-busy",
    "Database busy",
    "The database is busy with other changes; nothing was stored, try again shortly",
    2,
)
DATABASE_FULL = DatabaseFault(
    "database-full",
    "Database storage full",
    "The database has no space left for this change; nothing was stored",
    60,
)
DATABASE_READ_ONLY = DatabaseFault(
    "database-read-only",
    "Database read-only",
    "The database accepts no changes at the moment; nothing was stored",
    60,
)
DATABASE_UNAVAILABLE = DatabaseFault(
    "database-unavailable",
    "Database unavailable",
    "The database is unavailable; try again shortly",
    5,
)

# SQLite primary result codes (the low byte of an extended code).
_SQLITE_FAULTS = {
    5: DATABASE_BUSY,  # SQLITE_BUSY: "database is locked" after the busy timeout
    6: DATABASE_BUSY,  # SQLITE_LOCKED
    8: DATABASE_READ_ONLY,  # SQLITE_READONLY (file, mode=ro, PRAGMA query_only)
    10: DATABASE_UNAVAILABLE,  # SQLITE_IOERR
    11: DATABASE_UNAVAILABLE,  # SQLITE_CORRUPT
    13: DATABASE_FULL,  # SQLITE_FULL: disk full or max_page_count reached
    14: DATABASE_UNAVAILABLE,  # SQLITE_CANTOPEN
    26: DATABASE_UNAVAILABLE,  # SQLITE_NOTADB
}
# PostgreSQL SQLSTATEs, most specific first (a prefix matches a class).
_POSTGRES_FAULTS = (
    ("53100", DATABASE_FULL),  # disk_full
    ("25006", DATABASE_READ_ONLY),  # read_only_sql_transaction (also a hot standby)
    ("55P03", DATABASE_BUSY),  # lock_not_available (lock_timeout)
    ("57014", DATABASE_BUSY),  # query_canceled (statement_timeout)
    ("40001", DATABASE_BUSY),  # serialization_failure
    ("40P01", DATABASE_BUSY),  # deadlock_detected
    ("08", DATABASE_UNAVAILABLE),  # connection exceptions
    ("53", DATABASE_UNAVAILABLE),  # insufficient resources (memory, connections)
    ("57P", DATABASE_UNAVAILABLE),  # admin/crash shutdown, cannot connect now
)


def classify_database_error(exc: BaseException) -> DatabaseFault | None:
    """The fault a database error stands for, or None when it is not one (a bug: 500).

    A pool timeout (no connection free, or the SQLite writer lock not obtained in time) is
    a busy database. An `OperationalError` the table does not name is an unavailable one.
    """
    if isinstance(exc, PoolTimeoutError):
        return DATABASE_BUSY
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    sqlstate = getattr(orig, "sqlstate", None)
    fault: DatabaseFault | None = None
    if isinstance(sqlite_code, int):
        fault = _SQLITE_FAULTS.get(sqlite_code & 0xFF)
    elif isinstance(sqlstate, str):
        fault = next((f for prefix, f in _POSTGRES_FAULTS if sqlstate.startswith(prefix)), None)
    if fault is None and isinstance(exc, OperationalError):
        fault = DATABASE_UNAVAILABLE
    return fault


def database_fault_response(fault: DatabaseFault) -> JSONResponse:
    return problem(
        503,
        fault.detail,
        slug=fault.slug,
        title=fault.title,
        headers={"Retry-After": str(fault.retry_after_seconds)},
    )


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    fault = classify_database_error(exc)
    if fault is None:
        return await _on_unexpected(request, exc)
    orig = getattr(exc, "orig", None)
    # The class and the driver's code only: the message may quote SQL or parameters.
    log.error(
        "database_fault",
        fault=fault.slug,
        error=type(orig if orig is not None else exc).__name__,
        sqlite_code=getattr(orig, "sqlite_errorcode", None),
        sqlstate=getattr(orig, "sqlstate", None),
    )
    return database_fault_response(fault)


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", error=type(exc).__name__)
    # Rendered by Starlette's outermost error middleware, outside the security-headers
    # middleware (service/middleware.py), so the 500 carries those headers itself.
    return problem(
        500,
        "An unexpected error occurred; it has been logged",
        slug="internal",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(IntegrityError, _on_integrity_error)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(PoolTimeoutError, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected)
