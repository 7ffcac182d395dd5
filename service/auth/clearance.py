"""The one clearance filter. Every response that could carry portion text is built through
these functions: cable detail and lists, search, portion reads, release previews, exports and
audit details. A caller never receives text above its clearance.

Rules:
- a portion whose level the caller's clearance does not cover has `text = None` and
  `withheld_for_clearance = True`;
- the header portion (seq 0) carries the subject, references and classifier lines, so when it
  is withheld the cable shows only its unclassified metadata (ids, dates, markings, status).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Mapped

from service.auth.principal import Principal
from service.markings import Level, covers, level_rank

LEVELS_LOWEST_FIRST: tuple[Level, ...] = tuple(sorted(Level, key=level_rank))


def may_read(principal: Principal, level: str) -> bool:
    """True when `principal` may see text at `level` (unknown levels are never readable)."""
    try:
        return covers(principal.clearance, Level(level))
    except ValueError:
        return False


def readable_levels(principal: Principal) -> list[str]:
    """The levels `principal` may read, for filtering queries in the database."""
    return [level.value for level in LEVELS_LOWEST_FIRST if covers(principal.clearance, level)]


def visible_text(principal: Principal, *, level: str, text: str) -> str | None:
    """The portion text if the caller may read it, else None."""
    return text if may_read(principal, level) else None


def level_filter(
    principal: Principal, column: ColumnElement[str] | Mapped[str]
) -> ColumnElement[bool]:
    """A WHERE clause limiting `column` (a level column) to what `principal` may read."""
    return column.in_(readable_levels(principal))
