"""The one error the parser raises, for input it cannot use at all.

Invariant: ``CableParseError`` is raised only for unusable input (empty text,
bytes that are not UTF-8 text, NUL characters, no reference id, no body). It
always carries at least one ``Problem``; each names the 1-based line it is about
(``None`` when the problem concerns the input as a whole). Every other oddity
becomes a warning on the parsed cable instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CableParseError", "Problem"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason why a cable cannot be parsed."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


class CableParseError(ValueError):
    """The input is not a usable cable; ``problems`` says why, line by line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("CableParseError needs at least one problem")
        super().__init__("; ".join(str(p) for p in self.problems))
