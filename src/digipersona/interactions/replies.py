"""Reply drafts: a post of the persona that answers one interaction, threaded at the platform.

A reply is an ordinary ``Post`` (one platform: the interaction's) linked from the interaction
(``reply_post_id``). It goes through the same approval workflow and publishing engine; the
engine threads it with ``reply_targets.to_reply_target`` (X ``in_reply_to_tweet_id``, Bluesky
root/parent refs, LinkedIn comment on the post). When it is published, the periodic job marks
the interaction ``replied`` (``polling.mark_replied``).

Per-persona reply templates live in ``Persona.reply_templates``::

    {"templates": [{"id": "thanks", "class": "gratitude",
                    "text": "Thanks {author}, glad it helped!"}],
     "auto_send_classes": ["gratitude"]}

``{author}`` (name, else @handle), ``{handle}`` and ``{persona}`` are filled in. The simpler
``{"thanks": "Thanks {author}!"}`` form is read too (class = the id). A reply is never sent
without approval unless the persona lists the template's class in ``auto_send_classes``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from digipersona import db
from digipersona.ai import service as ai_service
from digipersona.audit import service as audit
from digipersona.auth.permissions import Permission
from digipersona.auth.principal import Principal
from digipersona.config import Settings
from digipersona.exceptions import Conflict, ValidationFailed
from digipersona.generation import get_provider
from digipersona.interactions import service
from digipersona.kit.time import utcnow
from digipersona.models import Interaction, Persona, PostStatus
from digipersona.personas import service as personas
from digipersona.personas.reply_templates import templates_of
from digipersona.posts import service as posts
from digipersona.posts.repository import VariantRepository
from digipersona.publishing import service as publishing


def _author(interaction: Interaction) -> str:
    if interaction.author_name and interaction.author_name != "deleted account":
        return interaction.author_name
    return f"@{interaction.author_handle}" if interaction.author_handle else "there"


def _fill(template: str, interaction: Interaction, persona: Persona) -> str:
    handle = f"@{interaction.author_handle}" if interaction.author_handle else ""
    return (
        template.replace("{author}", _author(interaction))
        .replace("{handle}", handle)
        .replace("{persona}", persona.name)
        .strip()
    )


def _answerable(session: Session, principal: Principal, interaction_id: uuid.UUID) -> Interaction:
    interaction = service.get(session, principal, interaction_id)
    if not interaction.reply_target:
        raise Conflict(
            f"This {interaction.platform} {interaction.kind} carries no reference to answer it "
            "by: reply on the platform itself."
        )
    return interaction


def _ai_reply(
    factory: sessionmaker[Session],
    principal: Principal,
    settings: Settings,
    interaction_id: uuid.UUID,
) -> str:
    """The AI provider's reply in the persona's voice: read what it needs, close the session,
    then ask, so no transaction (on SQLite, the one write lock) waits on a remote model."""
    with db.session_scope(factory) as session:
        interaction = _answerable(session, principal, interaction_id)
        persona = personas.get(session, principal, interaction.persona_id)
        profile, said, author = personas.profile_of(persona), interaction.text, _author(interaction)
        resolved = ai_service.resolve(session, principal.workspace_id, settings, persona)
        persona_id = persona.id
    provider = get_provider(resolved.config)
    try:
        held = ai_service.reserve(factory, resolved, calls=1)
    except BaseException:
        provider.close()
        raise
    try:
        text = provider.reply(profile, said, author).strip()
    except BaseException:
        ai_service.release(factory, held)
        raise
    finally:
        provider.close()
    if provider.usage or held.id is not None:
        with db.write_scope(factory) as session:
            ai_service.settle(session, held)
            if provider.usage:
                ai_service.record(
                    session,
                    principal.workspace_id,
                    persona_id,
                    purpose="reply",
                    provider=provider.name,
                    model=provider.model,
                    usage=provider.usage,
                )
    return text


def create_draft(
    factory: sessionmaker[Session],
    principal: Principal,
    settings: Settings,
    interaction_id: uuid.UUID,
    *,
    template_id: str | None = None,
    ai: bool = False,
    text: str | None = None,
) -> dict[str, Any]:
    """Create the reply post; auto-send it only for an opted-in template class.

    Its own units of work: an AI reply is asked for before the ``write_scope`` that stores it.
    """
    principal.require(Permission.drafts)
    ai_body = _ai_reply(factory, principal, settings, interaction_id) if ai else None
    with db.write_scope(factory) as session:
        return _store_draft(
            session,
            principal,
            settings,
            interaction_id,
            template_id=template_id,
            ai_body=ai_body,
            text=text,
        )


def _store_draft(
    session: Session,
    principal: Principal,
    settings: Settings,
    interaction_id: uuid.UUID,
    *,
    template_id: str | None,
    ai_body: str | None,
    text: str | None,
) -> dict[str, Any]:
    interaction = _answerable(session, principal, interaction_id)
    persona = personas.get(session, principal, interaction.persona_id)
    klass: str | None = None
    if template_id is not None:
        templates, _ = templates_of(persona)
        template = next((t for t in templates if t.id == template_id), None)
        if template is None:
            known = ", ".join(t.id for t in templates) or "none yet"
            raise ValidationFailed(
                f"The persona has no reply template {template_id!r} (it has: {known}). Add "
                "templates to the persona's reply_templates.",
                errors=[{"field": "template_id", "message": "unknown template"}],
            )
        body = _fill(template.text, interaction, persona)
        klass = template.klass
        source = "template"
    elif ai_body is not None:
        body = ai_body
        source = "ai"
    else:
        body = (text or "").strip()
        source = "text"
    if not body:
        raise ValidationFailed(
            "The reply is empty: write some text.", errors=[{"field": "text", "message": "empty"}]
        )
    view = posts.create(
        session,
        principal,
        persona_id=persona.id,
        body=body,
        platforms=[interaction.platform],
        brief=f"Reply to {_author(interaction)} on {interaction.platform}: "
        f"{interaction.text[:200]}",
        tags=["reply"],
    )
    post = view.post
    # A reply is one message as written: no persona hashtags, no thread split of its own.
    for variant in VariantRepository(session).for_posts([post.id])[post.id]:
        variant.parts = [body]
        variant.custom = True
    posts.refresh_variants(session, post, persona)
    interaction.reply_post_id = post.id
    if interaction.status == "new":
        interaction.status = "read"
    publication_ids: list[str] = []
    # Sending needs the publish permission as well as the persona's opt-in for the class.
    auto_sent = (
        klass is not None
        and klass in templates_of(persona)[1]
        and principal.can(Permission.publish)
    )
    if auto_sent:
        publication_ids = _auto_send(
            session, principal, settings, interaction, persona, klass or ""
        )
    session.flush()
    return {
        "interaction_id": interaction.id,
        "post_id": post.id,
        "post_status": post.status,
        "text": body,
        "source": source,
        "template_class": klass,
        "auto_sent": auto_sent,
        "publication_ids": publication_ids,
    }


def _auto_send(
    session: Session,
    principal: Principal,
    settings: Settings,
    interaction: Interaction,
    persona: Persona,
    klass: str,
) -> list[str]:
    """The persona opted in for this template class: approve and publish now, audited."""
    assert interaction.reply_post_id is not None
    view = posts.submit(session, principal, interaction.reply_post_id)
    post = view.post
    if post.status == PostStatus.in_review.value:
        # The persona's opt-in is the approval; recorded as such.
        post.status = PostStatus.approved.value
        post.approved_at = utcnow()
        post.version += 1
        audit.record(
            session,
            workspace_id=post.workspace_id,
            action="post.auto_approved",
            object_type="post",
            object_id=post.id,
            actor_user_id=principal.user_id,
            actor_token_id=principal.token_id,
            data={"reason": "persona opted in for reply class", "class": klass},
        )
    created = publishing.schedule(
        session,
        principal,
        settings,
        post.id,
        at=utcnow(),
        connection_ids=[interaction.connection_id],
    )
    return [str(p.id) for p in created]
