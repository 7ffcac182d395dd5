"""Turning the raw input into the text every offset refers to.

Invariants: the text returned by ``decode`` is the input itself (``str``) or
its strict UTF-8 decoding (``bytes``); nothing is normalised, stripped or
re-encoded, so portion offsets are offsets into exactly what the caller sent.
Only the whole-input problems of ``errors.py`` (not text, empty, NULs) are
detected here.
"""

from __future__ import annotations

from .errors import CableParseError, Problem

__all__ = ["decode", "line_of"]

_MAX_NUL_LINES = 5


def line_of(text: str, offset: int) -> int:
    """The 1-based line number of ``offset`` in ``text``."""
    return text.count("\n", 0, offset) + 1


def _nul_problems(text: str) -> list[Problem]:
    problems: list[Problem] = []
    pos = text.find("\0")
    while pos != -1 and len(problems) < _MAX_NUL_LINES:
        line = line_of(text, pos)
        problems.append(Problem(line, "NUL character: binary data, not cable text"))
        end = text.find("\n", pos)
        if end == -1:
            break
        pos = text.find("\0", end)
    return problems


def decode(data: str | bytes) -> str:
    """The cable text, or ``CableParseError`` when the input is not usable text."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = data if type(data) is bytes else bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            byte = raw[exc.start : exc.start + 1].hex()
            raise CableParseError(
                [Problem(line, f"not UTF-8 text: invalid byte 0x{byte} at offset {exc.start}")]
            ) from None
    elif isinstance(data, str):
        text = data
    else:
        raise TypeError(f"parse_cable expects str or bytes, not {type(data).__name__}")
    if "\0" in text:
        raise CableParseError(_nul_problems(text))
    if not text or text.isspace():
        raise CableParseError([Problem(None, "empty input: no cable text")])
    return text
