"""The application factory: settings, engine, middleware, error handlers and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from service import health
from service.audit.router import router as audit_router
from service.auth.deps import AuthGateMiddleware, KnownRoles
from service.auth.ratelimit import QueryBudgetMiddleware
from service.auth.router import router as auth_router
from service.cables.router import router as cables_router
from service.db import make_engine
from service.errors import install_error_handlers
from service.integrations.router import router as integrations_router
from service.integrations.webhooks.router import router as webhooks_router
from service.integrations.workers import start_workers
from service.logging import AccessLogMiddleware, configure_logging
from service.metrics import MetricsMiddleware, make_registry
from service.metrics import router as metrics_router
from service.middleware import (
    BodyLimitMiddleware,
    NulGuardMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
    route_body_limits,
)
from service.openapi import install_openapi, operation_id
from service.review.release_router import router as release_router
from service.review.router import router as review_router
from service.routing.router import router as routing_router
from service.schedule_api.router import CALENDAR_PATH
from service.schedule_api.router import router as schedule_router
from service.settings import Settings, load_settings

API_DESCRIPTION = """Declassification review of classified diplomatic cables: ingest and parse
cables, route portions to cleared reviewers, record decisions under a two-person rule, keep a
hash-chained audit log and render releases. Errors are RFC 9457 problem details."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application. Without `settings`, they are read from the environment."""
    settings = settings or load_settings()
    if CALENDAR_PATH not in settings.public_paths:
        # The calendar feed authenticates itself (a feed token in ?token=), so the bearer
        # gate lets it through; every other schedule route still needs a bearer token.
        settings = settings.model_copy(
            update={"public_paths": [*settings.public_paths, CALENDAR_PATH]}
        )
    configure_logging(settings)
    engine = make_engine(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The limiter belongs to the event loop serving the app, so it is set here.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        workers = start_workers(app.state, settings, engine)
        yield
        workers.stop()
        engine.dispose()

    app = FastAPI(
        title="Declass",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.known_roles = KnownRoles()
    app.state.metrics_registry, request_metrics = make_registry(engine)

    app.add_middleware(NulGuardMiddleware)  # inside the body limit: reads bounded bodies only
    app.add_middleware(BodyLimitMiddleware, limit_for=route_body_limits(settings))
    app.add_middleware(QueryBudgetMiddleware)  # inside the gate: budgets per principal
    app.add_middleware(AuthGateMiddleware)  # outside the body limit: no token, no upload
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=request_metrics)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    install_error_handlers(app)
    install_openapi(app)
    # Routes are matched in the order they are included, one router after another: the
    # review routes (reading and deciding portions, most of the traffic) come first. No two
    # routes can match the same path (tests/api/test_route_paths.py), so the order decides
    # nothing else.
    app.include_router(review_router)
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(auth_router)
    app.include_router(cables_router)
    app.include_router(schedule_router)
    app.include_router(audit_router)
    app.include_router(integrations_router)
    app.include_router(webhooks_router)
    app.include_router(routing_router)
    app.include_router(release_router)
    return app
