"""Streamed drafting (SSE): progress as the model writes, then the saved drafts or an error;
cancelling stops the model, saves nothing, records only the tokens used and settles the budget
hold. On SQLite and PostgreSQL; the real local model where a model is involved."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from digipersona.auth.permissions import ROLE_PERMISSIONS
from digipersona.auth.principal import Principal
from digipersona.config import Settings
from digipersona.generation import GenerationCancelled
from digipersona.models import AIReservation, AIUsage, Post, Role, User
from digipersona.posts import service
from tests.ai.test_ai_settings import _configure, _persona
from tests.conftest import Actor
from tests.fakes.llm_openai import FakeOpenAI
from tests.peers.llm_harness import MODEL_ALIAS, LocalLLM

PRICES = {MODEL_ALIAS: {"input": 1.0, "output": 1.0}}


def _events(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if line and ":" in line[1:])
        if "event" in lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def _stream(owner: Actor, persona_id: str, **extra: Any) -> Any:
    body = {"persona_id": persona_id, "brief": "Written updates", "platforms": ["x"], **extra}
    return owner.post("/api/v1/content/generate/stream", json=body)


def test_the_offline_writer_streams_its_drafts_then_saves_them(
    owner: Actor, session_factory: sessionmaker[Session]
) -> None:
    r = _stream(owner, _persona(owner), count=2)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in r.headers
    events = _events(r.text)
    kinds = [kind for kind, _ in events]
    assert kinds == ["progress", "progress", "drafts"], kinds
    items = events[-1][1]["items"]
    assert [i["body"] for i in items] == [data["text"] for _, data in events[:2]]
    with session_factory() as session:
        assert len(session.scalars(select(Post)).all()) == 2


@pytest.mark.parametrize(
    ("extra", "status"), [({"count": 9}, 422), ({"platforms": []}, 422), ({"brief": " "}, 422)]
)
def test_bad_requests_are_refused_before_the_stream(
    owner: Actor, session_factory: sessionmaker[Session], extra: dict[str, Any], status: int
) -> None:
    r = _stream(owner, _persona(owner), **extra)
    assert r.status_code == status, r.text
    with session_factory() as session:
        assert session.scalars(select(Post)).all() == []


def test_a_provider_error_is_an_error_event_and_releases_the_hold(
    owner: Actor, fake: tuple[FakeOpenAI, str], session_factory: sessionmaker[Session]
) -> None:
    """The strict fake refuses ``stream: true`` with OpenAI's 400 shape: a clear error event."""
    _, url = fake
    _configure(owner, url, monthly_budget_usd=5.0, prices=PRICES)
    r = _stream(owner, _persona(owner))
    assert r.status_code == 200, r.text
    events = _events(r.text)
    assert [kind for kind, _ in events] == ["error"]
    problem = events[0][1]
    assert problem["status"] == 400 or problem["status"] >= 500
    assert "stream" in problem["detail"]
    with session_factory() as session:
        assert session.scalars(select(Post)).all() == []
        assert session.scalars(select(AIReservation)).all() == []


@pytest.mark.llm
def test_a_real_model_streams_progress_before_the_drafts(
    owner: Actor, local_llm: LocalLLM, session_factory: sessionmaker[Session]
) -> None:
    _configure(owner, local_llm.base_url, model=MODEL_ALIAS, monthly_budget_usd=5.0, prices=PRICES)
    r = _stream(owner, _persona(owner))
    assert r.status_code == 200, r.text
    events = _events(r.text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] in ("drafts", "error"), kinds
    assert kinds.count("progress") >= 2 and kinds.index("progress") < len(kinds) - 1
    chars = [data["chars"] for kind, data in events if kind == "progress"]
    assert chars == sorted(chars)
    with session_factory() as session:
        assert session.scalars(select(AIReservation)).all() == []
        assert session.scalars(select(AIUsage)).all()


@pytest.mark.llm
def test_cancelling_closes_the_model_call_and_charges_only_what_was_used(
    owner: Actor,
    local_llm: LocalLLM,
    session_factory: sessionmaker[Session],
    app: Any,
) -> None:
    """Cancelled at the first piece, the long answer (up to 400 tokens) ends at once: the
    provider stops reading, closes the upstream request, and only the pieces received are
    recorded; nothing is saved and the budget hold is gone."""
    _configure(owner, local_llm.base_url, model=MODEL_ALIAS, monthly_budget_usd=5.0, prices=PRICES)
    persona_id = _persona(owner)
    settings: Settings = app.state.settings
    settings = settings.model_copy(update={"llm_draft_max_tokens": 400})
    with session_factory() as session:
        user = session.get(User, owner.user_id)
        assert user is not None
        session.expunge(user)
    principal = Principal(
        user=user,
        workspace_id=owner.workspace_id,  # type: ignore[arg-type]
        role=Role.owner,
        permissions=ROLE_PERMISSIONS[Role.owner],
        via="cli",
    )
    prepared = service.prepare_stream(
        session_factory,
        principal,
        settings,
        persona_id=uuid.UUID(persona_id),
        brief="Written updates",
        platforms=["linkedin"],
        count=3,
    )
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        cancel.set()

    with pytest.raises(GenerationCancelled):
        service.run_stream(
            session_factory, principal, settings, prepared, on_text=on_text, cancel=cancel
        )
    assert len(pieces) == 1  # no piece read after the cancel; the later drafts never asked
    with session_factory() as session:
        assert session.scalars(select(Post)).all() == []
        assert session.scalars(select(AIReservation)).all() == []
        used = session.scalars(select(AIUsage)).all()
        assert len(used) == 1 and used[0].tokens_out <= 2
