"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service import migrations
from service.errors import problem
from service.routes import CommittingRoute

router = APIRouter(tags=["operations"], route_class=CommittingRoute)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Database unreachable or not migrated"}})
def readyz(request: Request) -> JSONResponse:
    """The database is reachable and its schema is at the latest migration."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        at_head = migrations.is_at_head(engine)
    except SQLAlchemyError:
        return problem(503, "The database is unreachable", headers={"Retry-After": "5"})
    if not at_head:
        return problem(503, "The database schema is not at the latest migration")
    return JSONResponse({"status": "ready", "revision": migrations.head_revision(engine)})
