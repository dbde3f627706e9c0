"""A workspace's lead model: inbox labels, retraining, and the model that scores its inbox.

Marking an interaction "lead" / "not a lead" stores a label on it. ``retrain`` refits the model
on the shipped corpus plus the workspace's labels (``lead_training.retrain_candidate``) and keeps
the previous model when the new one scores worse on a held-out split. Scoring (polling, the
score API) uses ``model_for``: the workspace's own model, else the shipped one.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.db import session_scope, write_scope
from digipersona.exceptions import ValidationFailed
from digipersona.generation.base import LeadHints
from digipersona.interactions import service
from digipersona.interactions.lead_model import LeadModel, shipped_model
from digipersona.interactions.leads import LeadContext
from digipersona.interactions.repository import LeadLabelRepository
from digipersona.kit.time import utcnow
from digipersona.models import Connection, Interaction, Persona

logger = logging.getLogger(__name__)

# Parsed workspace models by (workspace, trained_at): a poll does not re-read the .npz each time.
_CACHE: dict[uuid.UUID, tuple[datetime, LeadModel]] = {}
_CACHE_LOCK = threading.Lock()
MIN_LABELS = 1
FEW_SHOT = 3  # examples of each class in the AI classifier's prompt
EXAMPLE_CHARS = 300


def context_for(persona: Persona | None) -> LeadContext | None:
    """What the persona sells and never counts as a lead, for ``score_lead``."""
    if persona is None:
        return None
    return LeadContext(offering=persona.offering, not_leads=tuple(persona.not_leads or ()))


def model_for(session: Session, workspace_id: uuid.UUID) -> LeadModel:
    """The workspace's own lead model, or the shipped one (also when its row is unreadable)."""
    row = LeadLabelRepository(session).model_row(workspace_id)
    if row is None:
        return shipped_model()
    with _CACHE_LOCK:
        cached = _CACHE.get(workspace_id)
    if cached is not None and cached[0] == row.trained_at:
        return cached[1]
    try:
        model = LeadModel.from_bytes(row.model)
    except ValueError as exc:
        logger.warning("workspace lead model unreadable (%s); the shipped one scores", exc)
        return shipped_model()
    with _CACHE_LOCK:
        _CACHE[workspace_id] = (row.trained_at, model)
    return model


def scoring_for(session: Session, connection: Connection) -> tuple[LeadModel, LeadContext | None]:
    """The model and persona context that score a connection's new interactions."""
    persona = session.get(Persona, connection.persona_id)
    return model_for(session, connection.workspace_id), context_for(persona)


def llm_hints(session: Session, connection: Connection) -> LeadHints:
    """What the AI classifier is told: the persona's offering and a few of the workspace's own
    labelled comments as examples (the most recent leads and non-leads)."""
    persona = session.get(Persona, connection.persona_id)
    labelled = LeadLabelRepository(session).recent_labels(connection.workspace_id, FEW_SHOT)
    return LeadHints(
        offering=(persona.offering or "") if persona else "",
        about=(persona.bio or "") if persona else "",
        not_leads=tuple(persona.not_leads or ()) if persona else (),
        examples=tuple((text[:EXAMPLE_CHARS], label) for text, label in labelled),
    )


def set_label(
    session: Session,
    principal: Principal,
    interaction_id: uuid.UUID,
    label: bool | None,
    now: datetime,
) -> Interaction:
    """Store the operator's verdict (True: lead, False: not a lead, None: forget it)."""
    principal.require(Permission.drafts)
    row = service.get(session, principal, interaction_id)
    row.lead_label = label
    row.lead_labelled_at = now if label is not None else None
    session.flush()
    return row


def _examples(session: Session, workspace_id: uuid.UUID) -> list[Any]:
    from digipersona.interactions.lead_training import Example

    return [
        Example(text=text, label=label, lang="inbox", ref=str(row_id))
        for row_id, text, label in LeadLabelRepository(session).labelled(workspace_id)
        if text.strip()
    ]


def retrain(session: Session, workspace_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """Refit the workspace's model on the shipped corpus plus its labels; keep the previous
    model if the new one scores worse on the held-out split. Returns what happened."""
    from digipersona.interactions.lead_training import load_corpus, retrain_candidate

    labels = _examples(session, workspace_id)
    if len(labels) < MIN_LABELS:
        raise ValidationFailed(
            "No labelled interactions yet: mark some as 'lead' or 'not a lead' in the inbox."
        )
    repo = LeadLabelRepository(session)
    current = model_for(session, workspace_id)
    used = set(current.meta.get("label_refs") or [])
    previous = [ex for ex in labels if ex.ref in used]
    outcome = retrain_candidate(load_corpus(), labels, current, previous)
    if outcome.replaced:
        repo.save_model(
            workspace_id,
            outcome.model.to_bytes(),
            dict(outcome.model.metrics),
            len(labels),
            now,
        )
    return {
        "replaced": outcome.replaced,
        "labels": len(labels),
        "held_out": outcome.held_out,
        "new_f1": round(outcome.new_f1, 3),
        "previous_f1": round(outcome.old_f1, 3),
    }


def retrain_due(factory: sessionmaker[Session], hours: int) -> dict[str, Any]:
    """The periodic retrain: every workspace whose labels are newer than its model, and whose
    model is older than ``hours``. Off when ``hours`` is 0. One failure skips that workspace."""
    if hours <= 0:
        return {"off": True, "retrained": 0}
    now = utcnow()
    with session_scope(factory) as session:
        due = LeadLabelRepository(session).workspaces_to_retrain(now - timedelta(hours=hours))
    retrained = 0
    for workspace_id in due:
        try:
            with write_scope(factory) as session:
                retrain(session, workspace_id, now)
            retrained += 1
        except Exception:
            logger.exception("retraining the lead model of workspace %s failed", workspace_id)
    return {"off": False, "retrained": retrained, "due": len(due)}


def quality(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    """The current model's measured quality for the Analytics page."""
    row = LeadLabelRepository(session).model_row(workspace_id)
    model = model_for(session, workspace_id)
    metrics = dict(model.metrics)
    figures = metrics.get("held_out") or metrics.get("combined") or {}
    method = (
        f"held-out split of {figures.get('n', '?')} items"
        if "held_out" in metrics
        else str(metrics.get("method", "cross-validation"))
    )
    return {
        "source": "this workspace's labels" if row is not None else "the shipped corpus",
        "precision": figures.get("precision"),
        "recall": figures.get("recall"),
        "method": method,
        "labels": row.label_count if row is not None else 0,
        "trained_at": row.trained_at if row is not None else None,
    }
