"""The inbox in a real browser on a phone: no sideways scroll, bulk triage, draft a reply."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from digipersona import db
from digipersona.kit.time import utcnow
from digipersona.models import Connection, Interaction, Persona, User, Workspace
from tests.browser.conftest import register


def _seed(tmp_path: Path, email: str) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'browser.db'}")
    factory = db.make_sessionmaker(engine)
    with db.session_scope(factory) as s:
        user = s.scalars(select(User).where(User.email == email)).one()
        ws = s.scalars(select(Workspace)).first()
        assert ws is not None and user is not None
        persona = Persona(workspace_id=ws.id, name="Phone Dana")
        s.add(persona)
        s.flush()
        conn = Connection(
            workspace_id=ws.id,
            persona_id=persona.id,
            platform="x",
            account_id="123",
            handle="dana",
            access_token_enc="x",
        )
        s.add(conn)
        s.flush()
        for n, (text, score) in enumerate(
            [
                (
                    "@dana do you consult? We need help with our platform team, can we talk? "
                    + "averyveryverylongwordwithoutanyspaces" * 3,
                    88,
                ),
                ("@dana nice thread https://example.com/" + "x" * 120, 5),
            ]
        ):
            s.add(
                Interaction(
                    workspace_id=ws.id,
                    persona_id=persona.id,
                    connection_id=conn.id,
                    platform="x",
                    external_id=str(1000 + n),
                    kind="mention",
                    text=text,
                    author_handle=f"user{n}",
                    author_name=f"User Number {n}",
                    received_at=utcnow(),
                    platform_created_at=utcnow(),
                    lead_score=score,
                    is_lead=score >= 50,
                    lead_reasons=['direct ask: "can we talk"'] if score >= 50 else [],
                    reply_target={"parent_id": str(1000 + n), "root_id": None, "extra": {}},
                )
            )
    engine.dispose()


def test_inbox_on_a_phone(phone: Any, live_server: str, tmp_path: Path) -> None:
    page = phone.new_page()
    email = f"inbox-{uuid.uuid4().hex[:6]}@example.com"
    register(page, live_server, email=email)
    _seed(tmp_path, email)
    page.goto(f"{live_server}/interactions")
    assert page.locator("text=Lead 88").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"/interactions scrolls sideways by {overflow}px at 360px"
    page.goto(f"{live_server}/dashboard?tab=interactions")
    page.wait_for_selector("#interactions-panel")
    assert page.locator("#interactions-panel >> text=Likely leads").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"dashboard interactions tab scrolls sideways by {overflow}px"

    # Bulk: tick the second one and mark it ignored.
    page.goto(f"{live_server}/interactions")
    page.locator("input[name=ids]").nth(1).check()
    page.select_option("#bulk-status", "ignored")
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector("text=Marked 1 interaction ignored.")
    assert page.locator(".interaction.status-ignored").count() == 1

    # Draft a reply to the lead: lands in the editor as a draft.
    first = page.locator("article.interaction").filter(has_text="User Number 0")
    first.locator("summary:has-text('Draft a reply')").click()
    first.locator("textarea[name=text]").fill("Happy to talk, send me a DM.")
    first.locator("button:has-text('Draft reply')").click()
    page.wait_for_url(f"{live_server}/content/**")
    assert page.locator("text=Reply drafted").is_visible()
    page.close()
