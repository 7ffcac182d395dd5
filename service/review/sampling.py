"""Second-review sampling (DOMAIN.md section 7), as pure rules.

PURE module: no database, no web framework; randomness comes from the caller (`draw` is a
number in [0, 1) from an injected source), so tests decide the outcome.

Invariants:

* Only a `release` in full of an UNCLASSIFIED or CONFIDENTIAL portion can ever skip the
  second review; never SECRET or above, never a cable with NODIS or EXDIS (as a caveat
  or in the portion's marking), never when any 25X, 50X or 75X code is involved (on the
  decision or in the cable's DECL instruction).
* With sampling off every decision needs an approver; with it on, an eligible decision is
  drawn for second review when `draw() < sample_rate` (rate 1.0: always reviewed; rate
  0.0: never), and is otherwise sampled out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

SAMPLEABLE_LEVELS = frozenset({"UNCLASSIFIED", "CONFIDENTIAL"})
RESTRICTED_CAVEATS = frozenset({"NODIS", "EXDIS"})
AUTO_EXEMPTION_PREFIXES = ("25X", "50X", "75X")


@dataclass(frozen=True, slots=True)
class SamplingFacts:
    """What sampling looks at: the decision and the portion and cable it is made on."""

    action: str
    span_count: int
    codes: tuple[str, ...]
    level: str
    marking: str | None
    cable_caveats: tuple[str, ...]
    decl_codes: tuple[str, ...]


def ineligibility(facts: SamplingFacts) -> str | None:
    """Why this decision must have a second review whatever the policy, or None when it
    may be sampled."""
    if facts.action != "release" or facts.span_count:
        return "only portions released in full may be sampled"
    if facts.level not in SAMPLEABLE_LEVELS:
        return f"{facts.level} portions always need a second review"
    marking_parts = set((facts.marking or "").upper().replace("/", " ").split())
    if (set(facts.cable_caveats) | marking_parts) & RESTRICTED_CAVEATS:
        return "NODIS and EXDIS cables always need a second review"
    if _has_auto_exemption(facts.codes) or _has_auto_exemption(facts.decl_codes):
        return "25X, 50X and 75X exemptions always need a second review"
    return None


def _has_auto_exemption(codes: Iterable[str]) -> bool:
    return any(code.upper().startswith(AUTO_EXEMPTION_PREFIXES) for code in codes)


def sampled_out(
    facts: SamplingFacts, *, sampling_enabled: bool, sample_rate: float, draw: Callable[[], float]
) -> float | None:
    """The draw that passed this decision over for second review, or None when an
    approver must review it. `draw` is called only for eligible decisions with sampling on."""
    if not sampling_enabled or ineligibility(facts) is not None:
        return None
    value = draw()
    return None if value < sample_rate else value
