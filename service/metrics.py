"""Prometheus metrics at `/metrics`.

Request metrics (count and latency by method, route template and status) are recorded per
process by a pure ASGI middleware. Business metrics are read from the database at scrape
time, so every process of a scaled-out deployment reports the same, true figures. Label
values are bounded sets (statuses, queue names, actions): never ids or text.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import structlog
from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.audit.models import AuditEvent
from service.cables.models import Cable, CableStatus, Portion, PortionStatus
from service.integrations.webhooks.models import AttemptOutcome, WebhookAttempt
from service.review.models import Decision
from service.routes import CommittingRoute

OPEN_PORTION_STATES = tuple(s.value for s in PortionStatus if s is not PortionStatus.approved)
NOT_RELEASED = (CableStatus.received, CableStatus.in_review, CableStatus.ready)

router = APIRouter(tags=["operations"], route_class=CommittingRoute)
log = structlog.get_logger(__name__)


class RequestMetrics:
    """The per-process request counters of one application."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "declass_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "declass_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = getattr(scope.get("route"), "path", None) or "(unmatched)"
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)


class BusinessCollector(Collector):
    """Reads the review figures from the database on every scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> list[GaugeMetricFamily]:
        # Registering must not query the database (it may not be migrated yet).
        return []

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        try:
            with Session(self.engine) as session:
                yield from self._collect(session)
        except SQLAlchemyError as error:
            log.warning("metrics_database_error", error=type(error).__name__)
            up = GaugeMetricFamily("declass_database_up", "1 when the database answered the scrape")
            up.add_metric([], 0)
            yield up

    def _collect(self, session: Session) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        up = GaugeMetricFamily("declass_database_up", "1 when the database answered the scrape")
        up.add_metric([], 1)
        yield up

        cables = GaugeMetricFamily("declass_cables", "Cables by status", labels=["status"])
        counts: dict[str, int] = dict(
            session.execute(
                select(col(Cable.status), func.count()).group_by(col(Cable.status))
            ).all()
        )
        for status in CableStatus:
            cables.add_metric([status.value], counts.get(status.value, 0))
        yield cables

        open_portions = GaugeMetricFamily(
            "declass_open_portions", "Portions not yet approved, by queue", labels=["queue"]
        )
        by_queue = session.execute(
            select(col(Portion.queue), func.count())
            .where(col(Portion.status).in_(OPEN_PORTION_STATES))
            .group_by(col(Portion.queue))
        ).all()
        for queue, count in sorted(by_queue, key=lambda row: row[0] or ""):
            open_portions.add_metric([queue or "(none)"], count)
        yield open_portions

        decisions = CounterMetricFamily(
            "declass_decisions", "Decisions recorded, by action", labels=["action"]
        )
        for action, count in sorted(
            session.execute(
                select(col(Decision.action), func.count()).group_by(col(Decision.action))
            ).all()
        ):
            decisions.add_metric([action], count)
        yield decisions

        today = datetime.now(UTC).date()
        overdue = GaugeMetricFamily(
            "declass_overdue_cables", "Cables whose declassify_on has passed, not yet released"
        )
        overdue.add_metric(
            [],
            session.execute(
                select(func.count())
                .select_from(Cable)
                .where(col(Cable.declassify_on) < today, col(Cable.status).in_(NOT_RELEASED))
            ).scalar_one(),
        )
        yield overdue

        failures = CounterMetricFamily(
            "declass_webhook_failures", "Webhook delivery attempts that did not succeed"
        )
        failures.add_metric(
            [],
            session.execute(
                select(func.count())
                .select_from(WebhookAttempt)
                .where(col(WebhookAttempt.outcome) != AttemptOutcome.success)
            ).scalar_one(),
        )
        yield failures

        chain = GaugeMetricFamily("declass_audit_chain_length", "Events in the audit chain")
        chain.add_metric(
            [],
            session.execute(select(func.coalesce(func.max(col(AuditEvent.seq)), 0))).scalar_one(),
        )
        yield chain


def make_registry(engine: Engine) -> tuple[CollectorRegistry, RequestMetrics]:
    """A registry of one application's metrics (one per app, so tests never collide)."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(BusinessCollector(engine))
    return registry, RequestMetrics(registry)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests by route and status, and review figures."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
