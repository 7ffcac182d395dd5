"""Request and response bodies of the routing API. Every request model forbids unknown
fields (422), and values are checked here: level names, DECL kinds, queue names."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.decl import DeclKind
from service.markings import Level

QUEUE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$"
MAX_VALUES = 100

QueueName = Annotated[str, StringConstraints(strip_whitespace=True, pattern=QUEUE_PATTERN)]
MatchValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class RuleMatch(BaseModel):
    """What a rule tests. Each list is "any of" and empty means any; all lists must hold.

    `levels`: the portion's level; `markings`: its marking or a `//` part of it (`NF`
    matches `S//NF`); `caveats`: the cable's caveats and those of the portion's mark;
    `reasons`: the cable's reasons and DECL exemption codes (`1.4(c)`, `X1`, `25X1`);
    `tags`, `origins`, `decl_kinds`: the cable's. Comparison ignores case.
    """

    model_config = ConfigDict(extra="forbid")

    levels: list[Level] = Field(default_factory=list, max_length=len(Level))
    markings: list[MatchValue] = Field(default_factory=list, max_length=MAX_VALUES)
    reasons: list[MatchValue] = Field(default_factory=list, max_length=MAX_VALUES)
    tags: list[MatchValue] = Field(default_factory=list, max_length=MAX_VALUES)
    origins: list[MatchValue] = Field(default_factory=list, max_length=MAX_VALUES)
    decl_kinds: list[DeclKind] = Field(default_factory=list, max_length=len(DeclKind))
    caveats: list[MatchValue] = Field(default_factory=list, max_length=MAX_VALUES)


class RuleIn(BaseModel):
    """A rule as posted (POST) or replaced whole (PUT)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "intelligence-equities",
                    "priority": 20,
                    "match": {"reasons": ["1.4(c)", "X1", "25X1"]},
                    "queue": "intelligence-equities",
                    "min_clearance": None,
                }
            ]
        },
    )

    name: Annotated[str, StringConstraints(strip_whitespace=True, pattern=NAME_PATTERN)]
    priority: int = Field(ge=0, le=1_000_000, description="Lower fires first")
    match: RuleMatch = Field(default_factory=RuleMatch)
    queue: QueueName
    min_clearance: Level | None = Field(
        default=None,
        description="A reviewer needs at least this clearance (and the portion's level)",
    )
    active: bool = True


class RulePublic(BaseModel):
    id: int
    name: str
    priority: int
    match: RuleMatch
    queue: str
    min_clearance: Level | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class RulePage(BaseModel):
    items: list[RulePublic]
    next_cursor: str | None = None


class PortionPlace(BaseModel):
    queue: str | None
    assignee: str | None
    status: str


class Move(BaseModel):
    """One unclaimed portion that the current rules move (or would move)."""

    ref_id: str
    seq: int
    level: str
    rule: str | None = Field(description="The rule that fired; null: the `general` fallback")
    old: PortionPlace
    new: PortionPlace


class ApplyResult(BaseModel):
    dry_run: bool
    examined: int = Field(description="Unclaimed portions the rules were applied to")
    moved: int = Field(description="Portions moved (or that would move, in a dry run)")
    skipped: int = Field(description="Portions claimed or changed by others meanwhile")
    items: list[Move] = Field(description="The moves, at most `limit` of them")
    truncated: bool


class QueueMember(BaseModel):
    username: str
    clearance: Level
    open_assignments: int


class QueueView(BaseModel):
    name: str
    rules: list[str] = Field(description="Active rules that route to this queue")
    open_count: int = Field(description="Portions in the queue not yet approved")
    unassignable_count: int = Field(
        description="Portions waiting in the queue with no eligible reviewer"
    )
    unassignable_by_level: dict[str, int]
    oldest_declassify_on: date | None = Field(
        description="The soonest declassify_on among the cables of the open portions"
    )
    members: list[QueueMember] = Field(description="Active reviewers in the queue")


class QueuePage(BaseModel):
    items: list[QueueView]
    next_cursor: str | None = None
