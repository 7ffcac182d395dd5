"""Who is acting: a person (user) or a records system (service account), or the system
itself for command-line and background work."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from service.auth.models import Role
from service.markings import Level


class PrincipalKind(StrEnum):
    user = "user"
    service = "service"
    system = "system"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller. `name` is the username or client id; `sub` the token subject."""

    name: str
    sub: str
    kind: PrincipalKind
    roles: frozenset[Role]
    clearance: Level
    queues: tuple[str, ...] = ()

    def has_role(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)


def system_principal(name: str = "system") -> Principal:
    """The actor for CLI commands and background jobs (full clearance, all roles)."""
    return Principal(
        name=name,
        sub=f"system:{name}",
        kind=PrincipalKind.system,
        roles=frozenset(Role),
        clearance=Level.TOP_SECRET,
    )
