"""Required literals of a regular expression: a cheap test that a pattern cannot match a text.

``required_literals(pattern)`` returns a set of strings such that every match of ``pattern``
contains at least one of them, or None when it finds no such set worth testing (a literal
shorter than ``MIN_LITERAL`` characters, a case-insensitive pattern, a construct it does not
know). The set comes from the parsed pattern: a run of literal characters is required; a group or
a repetition of at least once requires what its body requires; an alternation requires the union
of what each branch requires (and nothing when one branch requires nothing). Of a sequence's
required parts, the one with the longest shortest literal is kept.

``leads`` uses it to skip the rule patterns none of whose literals occur in a comment: a
substring test is some hundred times cheaper than running a regex, and the answer is the same.
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, Final

MIN_LITERAL: Final = 3

_LITERAL: Final = sre_constants.LITERAL
_SUBPATTERN: Final = sre_constants.SUBPATTERN
_BRANCH: Final = sre_constants.BRANCH
_REPEATS: Final = (
    sre_constants.MAX_REPEAT,
    sre_constants.MIN_REPEAT,
    sre_constants.POSSESSIVE_REPEAT,
)
_ATOMIC: Final = sre_constants.ATOMIC_GROUP


def _best(candidates: list[frozenset[str]]) -> frozenset[str] | None:
    if not candidates:
        return None
    return max(candidates, key=lambda lits: (min(map(len, lits)), -len(lits)))


def _sequence(items: Any) -> frozenset[str] | None:
    """What a sequence of parsed items requires (None: nothing known)."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in items:
        if op is _LITERAL:
            run.append(chr(av))
            continue
        if run:
            candidates.append(frozenset({"".join(run)}))
            run = []
        required: frozenset[str] | None = None
        if op is _SUBPATTERN:
            _group, add_flags, _del_flags, body = av
            if add_flags & re.IGNORECASE:
                return None
            required = _sequence(body)
        elif op is _ATOMIC:
            required = _sequence(av)
        elif op is _BRANCH:
            branches = [_sequence(branch) for branch in av[1]]
            if branches and all(b is not None for b in branches):
                required = frozenset().union(*(b for b in branches if b is not None))
        elif op in _REPEATS and av[0] >= 1:
            required = _sequence(av[2])
        if required:
            candidates.append(required)
    if run:
        candidates.append(frozenset({"".join(run)}))
    return _best(candidates)


def required_literals(pattern: str) -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` contains, or None (always run it)."""
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return None
    found = _sequence(parsed)
    if not found or min(map(len, found)) < MIN_LITERAL:
        return None
    return found
