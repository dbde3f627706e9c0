"""No SQL outside repositories: a module that is not a repository does not build a query.

The rule (CONTRIBUTING.md "How the code is written", docs/architecture.md "SQL lives in
repositories"): outside ``repository.py`` files, the repository base (``kit/repository.py``),
``models/``, ``migrations/`` and ``db.py``, a module of ``src/digipersona`` may not

- import a statement or expression builder from SQLAlchemy (``select``, ``insert``, ``update``,
  ``delete``, ``text``, ``func``, ``and_``, ``case``, loader options such as ``selectinload``,
  the ``Select`` type, ...), anything from ``sqlalchemy.sql`` or ``sqlalchemy.dialects``, or
  ``sqlalchemy`` itself as a module (``import sqlalchemy as sa`` reaches all of them);
- call ``.execute()``, ``.scalars()``, ``.scalar()``, ``.query()``, ``.exec_driver_sql()`` on
  anything, or reach a model's Core table through ``__table__``.

The unit of work stays where the service holds it: ``session.add``, ``delete``, ``flush``,
``refresh`` and ``session.get`` by primary key build no statement and are fine anywhere.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "digipersona"

BUILDERS = frozenset(
    {
        # statements
        "select", "insert", "update", "delete", "text", "values", "union", "union_all",
        "intersect", "intersect_all", "except_", "except_all", "exists", "lateral",
        "Select", "Insert", "Update", "Delete", "TextClause",
        # expressions and functions
        "func", "and_", "or_", "not_", "case", "cast", "literal", "literal_column", "tuple_",
        "bindparam", "column", "table", "true", "false", "null", "distinct", "over",
        "join", "outerjoin", "any_", "all_", "collate", "extract", "type_coerce", "asc", "desc",
        "nulls_first", "nulls_last", "within_group", "funcfilter",
        # ORM query options
        "aliased", "selectinload", "joinedload", "subqueryload", "contains_eager", "load_only",
        "defer", "undefer", "raiseload", "noload", "lazyload", "with_loader_criteria",
        "with_expression", "with_polymorphic",
    }
)  # fmt: skip
QUERY_CALLS = frozenset({"execute", "scalars", "scalar", "query", "exec_driver_sql"})
# Modules whose whole content may build statements.
BUILDER_MODULES = ("sqlalchemy.sql", "sqlalchemy.dialects")

# Files that still build queries, each with its reason. Keep it short: a new entry needs one.
ALLOWED: dict[str, str] = {
    # Being moved by the publishing refactor (issue 18): its SQL goes into
    # publishing/repository.py.
    "publishing/calendar.py": "being moved by the publishing/analytics refactor",
    # Justified for good.
    "kit/ratelimit.py": "calls a Redis pipeline's execute(), which is not SQL (the login "
    "limiter keeps its counters in memory or Redis, never in the database: docs/architecture.md)",
}


def may_build_queries(relative: str) -> bool:
    """Whether the module at ``relative`` (to src/digipersona) is where queries belong."""
    path = Path(relative)
    return (
        path.name == "repository.py"
        or relative in {"kit/repository.py", "db.py"}
        or path.parts[0] in {"models", "migrations"}
    )


def violations(source: str) -> list[str]:
    """Each place in ``source`` that builds or runs a query, as "line: what"."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            if module == "sqlalchemy" or module.startswith("sqlalchemy."):
                for alias in node.names:
                    if alias.name in BUILDERS or module.startswith(BUILDER_MODULES):
                        found.append(f"{node.lineno}: imports {alias.name} from {module}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "sqlalchemy" or alias.name.startswith(BUILDER_MODULES):
                    found.append(f"{node.lineno}: imports {alias.name}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in QUERY_CALLS:
                found.append(f"{node.lineno}: calls .{node.func.attr}()")
        elif isinstance(node, ast.Attribute) and node.attr == "__table__":
            found.append(f"{node.lineno}: reaches a Core table through __table__")
    return found


def _modules() -> list[str]:
    return sorted(p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py"))


def test_no_sql_outside_repositories() -> None:
    offenders = {
        relative: found
        for relative in _modules()
        if not may_build_queries(relative) and relative not in ALLOWED
        if (found := violations((SRC / relative).read_text(encoding="utf-8")))
    }
    assert not offenders, (
        "Queries belong in the domain's repository.py (CONTRIBUTING.md): "
        + "; ".join(f"{path} ({', '.join(found)})" for path, found in offenders.items())
    )


def test_allowlist_is_still_needed() -> None:
    """An entry whose file no longer builds queries (or is gone) is taken off the list."""
    stale = [
        relative
        for relative in ALLOWED
        if not (SRC / relative).is_file()
        or not violations((SRC / relative).read_text(encoding="utf-8"))
    ]
    assert not stale, f"Take these off ALLOWED in tests/test_architecture.py: {stale}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from sqlalchemy import select\n", "1: imports select from sqlalchemy"),
        ("from sqlalchemy import func as f\n", "1: imports func from sqlalchemy"),
        ("import sqlalchemy as sa\n", "1: imports sqlalchemy"),
        ("from sqlalchemy.orm import selectinload\n", "1: imports selectinload"),
        ("from sqlalchemy.dialects.postgresql import insert\n", "1: imports insert"),
        ("from sqlalchemy.sql import expression\n", "1: imports expression"),
        ("def f(session):\n    return session.execute(stmt)\n", "2: calls .execute()"),
        ("def f(s):\n    return list(s.scalars(stmt))\n", "2: calls .scalars()"),
        ("def f(session):\n    session.query(User)\n", "2: calls .query()"),
        ("t = Post.__table__\n", "1: reaches a Core table"),
    ],
)
def test_a_planted_query_is_caught(source: str, expected: str) -> None:
    assert any(v.startswith(expected) for v in violations(source))


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy.orm import Session, sessionmaker\n",
        "from sqlalchemy.exc import IntegrityError\n",
        "from sqlalchemy import Engine\n",
        "def f(session, obj):\n    session.add(obj)\n    session.flush()\n",
        "def f(session, id_):\n    return session.get(User, id_)\n",
    ],
)
def test_the_unit_of_work_is_not_a_query(source: str) -> None:
    assert violations(source) == []


def test_a_planted_violation_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite's check itself fails when a view builds a query."""
    planted = tmp_path / "digipersona"
    (planted / "posts").mkdir(parents=True)
    (planted / "posts" / "views.py").write_text(
        "from sqlalchemy import select\n\n"
        "def page(session):\n    return session.scalars(select(Post))\n"
    )
    (planted / "posts" / "repository.py").write_text("from sqlalchemy import select\n")
    module = sys.modules[__name__]
    monkeypatch.setattr(module, "SRC", planted)
    monkeypatch.setattr(module, "ALLOWED", {})
    with pytest.raises(AssertionError, match=r"posts/views\.py \(1: imports select"):
        test_no_sql_outside_repositories()
