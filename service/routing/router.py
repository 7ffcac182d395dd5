"""HTTP routes for routing: the rules (supervisors), re-applying them, and the queues view."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from service.auth.deps import SupervisorDep
from service.deps import IdPath, SessionDep
from service.errors import PreconditionRequired
from service.pagination import next_link
from service.routes import CommittingRoute
from service.routing import queues, rules
from service.routing import service as routing
from service.routing.schemas import ApplyResult, QueuePage, RuleIn, RulePage, RulePublic

router = APIRouter(tags=["routing"], route_class=CommittingRoute)

RULES = "/api/v1/routing/rules"
_ETAG = re.compile(r'^\s*(?:"(\d{1,9})"|(\d{1,9}))\s*$')

CreateQueue = Annotated[
    bool,
    Query(description="Allow a queue no rule or user names yet (it comes into being)"),
]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", description='The rule\'s ETag: "<version>"')
]


def expected_version(if_match: str | None) -> int:
    """The version an `If-Match` header names (`"3"`, or a bare `3`, as for portions):
    PreconditionRequired (428) when missing or `*`; anything else that is not one strong
    ETag (`W/"3"`, a list) gives -1, which no rule has, so the service answers 412 with the
    rule's current `ETag`."""
    if if_match is None or if_match.strip() in ("", "*"):
        raise PreconditionRequired('This change needs If-Match: "<version>" (the rule\'s ETag)')
    found = _ETAG.match(if_match)
    if found is None:
        return -1
    return int(found.group(1) or found.group(2))


@router.get(RULES, response_model=RulePage)
def list_rules(
    session: SessionDep,
    _supervisor: SupervisorDep,
    request: Request,
    response: Response,
    active: Annotated[bool | None, Query(description="Only active (or inactive) rules")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> RulePage:
    """The routing rules in firing order: ascending `priority`, then `name`. The first
    active rule that matches a portion decides its queue; a portion no rule matches goes to
    the built-in `general` queue."""
    rows, next_cursor = rules.list_rules(session, active=active, limit=limit, cursor=cursor)
    response.headers.update(next_link(request.url, next_cursor))
    return RulePage(items=[rules.rule_public(rule) for rule in rows], next_cursor=next_cursor)


@router.post(RULES, status_code=201, response_model=RulePublic)
def create_rule(
    session: SessionDep,
    supervisor: SupervisorDep,
    body: RuleIn,
    response: Response,
    create_queue: CreateQueue = False,
) -> RulePublic:
    """Add a rule. Its `queue` must be known (`general`, or named by a rule or a user's
    queues) unless `create_queue=true`; 409 when the name is taken. Existing work does not
    move until `POST /api/v1/routing/apply`."""
    rule = rules.create_rule(session, actor=supervisor, data=body, create_queue=create_queue)
    response.headers["Location"] = f"{RULES}/{rule.id}"
    response.headers["ETag"] = rules.rule_etag(rule)
    return rules.rule_public(rule)


@router.get(RULES + "/{rule_id}", response_model=RulePublic)
def read_rule(
    session: SessionDep, _supervisor: SupervisorDep, rule_id: IdPath, response: Response
) -> RulePublic:
    """One rule; its `ETag` is `"<version>"`, needed by PUT and DELETE."""
    rule = rules.get_rule(session, rule_id)
    response.headers["ETag"] = rules.rule_etag(rule)
    return rules.rule_public(rule)


@router.put(RULES + "/{rule_id}", response_model=RulePublic)
def replace_rule(
    session: SessionDep,
    supervisor: SupervisorDep,
    rule_id: IdPath,
    body: RuleIn,
    response: Response,
    if_match: IfMatch = None,
    create_queue: CreateQueue = False,
) -> RulePublic:
    """Replace a rule whole (`active: true` reactivates a deactivated one). Needs
    `If-Match` (428 without, 412 when stale). Existing work does not move until
    `POST /api/v1/routing/apply`."""
    rule = rules.update_rule(
        session,
        actor=supervisor,
        rule_id=rule_id,
        data=body,
        expected_version=expected_version(if_match),
        create_queue=create_queue,
    )
    response.headers["ETag"] = rules.rule_etag(rule)
    return rules.rule_public(rule)


@router.delete(RULES + "/{rule_id}", status_code=204)
def deactivate_rule(
    session: SessionDep,
    supervisor: SupervisorDep,
    rule_id: IdPath,
    if_match: IfMatch = None,
) -> Response:
    """Deactivate a rule: it stops matching but is kept (audit events name it; PUT with
    `active: true` brings it back). Needs `If-Match`. Existing work does not move until
    `POST /api/v1/routing/apply`."""
    rule = rules.deactivate_rule(
        session, actor=supervisor, rule_id=rule_id, expected_version=expected_version(if_match)
    )
    return Response(status_code=204, headers={"ETag": rules.rule_etag(rule)})


@router.post("/api/v1/routing/apply", response_model=ApplyResult)
def apply_rules(
    session: SessionDep,
    supervisor: SupervisorDep,
    dry_run: Annotated[bool, Query(description="List what would move; change nothing")] = False,
    limit: Annotated[int, Query(ge=1, le=5000, description="At most this many moves listed")] = 500,
) -> ApplyResult:
    """Apply the current rules to unclaimed portions (`pending`, or `assigned` and not yet
    claimed): a portion whose queue changed moves to its new queue and an eligible reviewer
    there (or waits); an assignee no longer eligible is replaced; waiting portions get a
    reviewer when one is eligible. Claimed work never moves (a supervisor reassigns it).
    Every move writes a `portion.routed` audit event naming the rule."""
    return routing.apply_rules(session, actor=supervisor, dry_run=dry_run, limit=limit)


@router.get("/api/v1/queues", response_model=QueuePage)
def list_queues(session: SessionDep, _supervisor: SupervisorDep) -> QueuePage:
    """Every queue by name: the active rules that feed it, its open portions (not yet
    approved), the portions waiting with no eligible reviewer (by level), the soonest
    `declassify_on` among its open work and its members with their open assignments."""
    return QueuePage(items=queues.queue_overview(session))
