"""Engagement forecasts: the band a post would likely get, learnt from the workspace's
measured history (the model is in ``prediction.py``), and its held-out accuracy."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from digipersona.analytics import prediction, repository
from digipersona.analytics.history import learning_history, zones
from digipersona.auth.principal import Principal
from digipersona.exceptions import NotFound, ValidationFailed
from digipersona.kit.time import utcnow
from digipersona.models import Post
from digipersona.scheduling.slots import iter_slots


def history_examples(session: Session, workspace_id: uuid.UUID) -> list[prediction.Example]:
    """The workspace's recent measured posts as training examples (oldest first)."""
    history = learning_history(session, workspace_id)
    post_ids = list({m.post_id for m in history})
    with_media = repository.media_post_ids(session, post_ids)
    parts = repository.variant_parts(session, post_ids)
    return [
        prediction.Example(
            at=m.local,
            persona=str(m.persona_id),
            platform=m.platform,
            features=prediction.features(
                m.text,
                m.local,
                platform=m.platform,
                has_media=m.post_id in with_media,
                parts=parts.get((m.post_id, m.platform), 1),
            ),
            engagement=float(m.engagement or 0),
        )
        for m in history
    ]


def _next_slot(session: Session, post: Post) -> datetime:
    """The persona's next posting slot: where an unscheduled post would most likely go."""
    persona = repository.get_persona(session, post.workspace_id, post.persona_id)
    now = utcnow()
    if persona is None:
        return now
    try:
        return next(iter_slots(list(persona.slots), persona.timezone, now), now)
    except (ValueError, KeyError, ValidationFailed):
        return now


def predict_post(
    session: Session, principal: Principal, post_id: uuid.UUID, at: datetime | None = None
) -> dict[str, Any]:
    """The engagement band a post would likely get on each of its platforms, or why not."""
    post = repository.get_post(session, principal.workspace_id, post_id)
    if post is None:
        raise NotFound("No such post in this workspace.")
    if at is not None and at.tzinfo is None:
        raise ValidationFailed("'at' needs a time zone, e.g. 2026-11-03T06:30:00+01:00.")
    when = at or repository.first_scheduled_at(session, post.id) or _next_slot(session, post)
    zone = zones(session, principal.workspace_id).get(post.persona_id, ZoneInfo("UTC"))
    local = when.astimezone(zone)
    examples = history_examples(session, principal.workspace_id)
    persona_count = sum(1 for e in examples if e.persona == str(post.persona_id))
    result: dict[str, Any] = {
        "post_id": post.id,
        "at": when,
        "local_time": local.isoformat(),
        "measured_posts": len(examples),
        "persona_measured_posts": persona_count,
        "status": "ok",
        "message": None,
        "predictions": [],
    }
    if len(examples) < prediction.MIN_TRAINING or persona_count < prediction.MIN_PERSONA:
        result["status"] = "insufficient_history"
        result["message"] = (
            f"Not enough history to predict: {len(examples)} measured posts in the workspace "
            f"(needs {prediction.MIN_TRAINING}) and {persona_count} for this persona (needs "
            f"{prediction.MIN_PERSONA}). Figures are read 1 h to 7 days after publication."
        )
        return result
    model = prediction.train(examples)
    has_media = bool(repository.media_post_ids(session, [post.id]))
    parts = repository.variant_parts(session, [post.id])
    for platform in post.platforms:
        row = prediction.features(
            post.body,
            local,
            platform=platform,
            has_media=has_media,
            parts=parts.get((post.id, platform), 1),
        )
        probs = model.classifier.proba(row)
        band = max(prediction.BANDS, key=lambda b: probs[b])
        low, high = model.thresholds.cuts(str(post.persona_id), platform)
        result["predictions"].append(
            {
                "platform": platform,
                "band": band,
                "probabilities": {b: round(p, 3) for b, p in probs.items()},
                "reasons": model.classifier.reasons(row, band),
                "band_limits": {"low_up_to": low, "high_above": high},
            }
        )
    return result


def evaluate_workspace(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    """Held-out accuracy of the prediction on the workspace's history vs the majority band."""
    examples = history_examples(session, workspace_id)
    evaluation = prediction.evaluate(examples)
    if evaluation is None:
        return {
            "status": "insufficient_history",
            "measured_posts": len(examples),
            "needed": prediction.MIN_TRAINING,
        }
    return {"status": "ok", "measured_posts": len(examples), **evaluation.to_dict()}
