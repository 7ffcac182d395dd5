"""What the parser produces: frozen, slotted dataclasses, nothing else.

Invariants kept by ``parse_cable`` (not by these classes themselves):

* ``"".join(p.text for p in cable.portions)`` is exactly the input text
  (after decoding bytes as UTF-8; line ends and spaces are never touched).
* ``portions[0]`` is the header (``seq`` 0); body portions follow with
  ``seq`` 1..N in text order; no portion text is empty.
* Every portion has a ``level``: its own mark's, else the cable's
  classification (UNCLASSIFIED in an unclassified cable).
* Values come from the text only, never from a file name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from service.decl import Decl
from service.markings import Level

__all__ = ["ParsedCable", "ParsedPortion", "Recipient", "make_portion", "make_recipient"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """One addressee of the routing header's TO or INFO block.

    ``route`` is the routing indicator written before a slash (``RUEHC`` in
    ``RUEHC/SECSTATE WASHDC IMMEDIATE 4696``), ``precedence`` a word such as
    ``PRIORITY`` or ``NIACT IMMEDIATE``, ``mcn`` the trailing message counter
    number, ``excluded`` the addressees an ``XMT`` line removes from a collective.
    """

    route: str | None
    name: str
    precedence: str | None = None
    mcn: str | None = None
    excluded: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        """The shape used by the peer cases: ``{route, name, precedence, mcn, excluded}``."""
        return {
            "route": self.route,
            "name": self.name,
            "precedence": self.precedence,
            "mcn": self.mcn,
            "excluded": list(self.excluded),
        }


@dataclass(frozen=True, slots=True)
class ParsedPortion:
    """A slice of the cable text: the header (``seq`` 0) or one body portion.

    ``number`` is the paragraph number as written (``"1"``) or ``None``;
    ``marking`` the normalised mark (``C``, ``S//NF``) or an unknown mark as
    written, ``None`` when the portion carries none.
    """

    seq: int
    number: str | None
    marking: str | None
    level: Level
    text: str


@dataclass(frozen=True, slots=True)
class ParsedCable:
    """Everything the parser read from one cable, with a warning per oddity.

    ``subject`` is the cable's own ``SUBJECT:`` line (leading mark removed),
    else the metadata title; ``title`` is the metadata title as given.
    ``references`` are the REF items as written (``STATE 167308``) and
    ``reference_ids`` the cable ids they name (``07STATE167308``).
    ``classified_by`` is the Classified By text without its reasons and
    ``classified_by_names`` the names in it. ``cable_date`` is the metadata
    date, else the date of the date-time group.
    """

    ref_id: str
    subject: str | None
    title: str | None
    origin: str | None
    sent_at: datetime | None
    cable_date: date | None
    classification: Level | None
    caveats: tuple[str, ...]
    eo: str | None
    decl: Decl | None
    declassify_on: date | None
    declassify_basis: str | None
    classified_by: str | None
    classified_by_names: tuple[str, ...]
    reasons: tuple[str, ...]
    tags: tuple[str, ...]
    references: tuple[str, ...]
    reference_ids: tuple[str, ...]
    signer: str | None
    signers: tuple[str, ...]
    recipients: tuple[Recipient, ...]
    info_recipients: tuple[Recipient, ...]
    warnings: tuple[str, ...]
    portions: tuple[ParsedPortion, ...]


# A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``
# (a lookup and a wrapper call per field); setting the slots through their
# descriptors builds the same object in about two thirds of the time. The parser
# builds about ten portions and seven recipients per cable, so it uses these two.
# A class compiled by mypyc has its own fast constructor and is built with it.
_new = object.__new__


def _slot_setters(cls: type) -> tuple[Callable[[Any, Any], None], ...]:
    """The ``__set__`` of each field's slot of ``cls``, in field order; empty when
    ``cls`` is not a plain Python class (compiled by mypyc)."""
    constructor: object = cls.__new__
    if constructor is not object.__new__:
        return ()
    return tuple(cls.__dict__[field.name].__set__ for field in fields(cls))


_PORTION_SETTERS = _slot_setters(ParsedPortion)
_RECIPIENT_SETTERS = _slot_setters(Recipient)


def make_portion(
    seq: int, number: str | None, marking: str | None, level: Level, text: str
) -> ParsedPortion:
    """``ParsedPortion(seq, number, marking, level, text)``, built faster (see above)."""
    if not _PORTION_SETTERS:
        return ParsedPortion(seq, number, marking, level, text)
    set_seq, set_number, set_marking, set_level, set_text = _PORTION_SETTERS
    portion: ParsedPortion = _new(ParsedPortion)
    set_seq(portion, seq)
    set_number(portion, number)
    set_marking(portion, marking)
    set_level(portion, level)
    set_text(portion, text)
    return portion


def make_recipient(
    route: str | None,
    name: str,
    precedence: str | None = None,
    mcn: str | None = None,
    excluded: tuple[str, ...] = (),
) -> Recipient:
    """``Recipient(route, name, precedence, mcn, excluded)``, built faster (see above)."""
    if not _RECIPIENT_SETTERS:
        return Recipient(route, name, precedence, mcn, excluded)
    set_route, set_name, set_precedence, set_mcn, set_excluded = _RECIPIENT_SETTERS
    recipient: Recipient = _new(Recipient)
    set_route(recipient, route)
    set_name(recipient, name)
    set_precedence(recipient, precedence)
    set_mcn(recipient, mcn)
    set_excluded(recipient, excluded)
    return recipient
