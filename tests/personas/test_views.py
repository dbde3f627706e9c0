"""Persona form: reply templates and the classes sent without approval."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Actor
from tests.web.test_shell import csrf_from, web_login

BASE = {
    "name": "Reply Rita",
    "language": "en",
    "timezone": "UTC",
    "approval_policy": "require_approval",
    "slots": "FREQ=WEEKLY;BYDAY=TU,TH;BYHOUR=6;BYMINUTE=30",
    "jitter_minutes": "0",
    "max_lateness_minutes": "360",
}


def _value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="text" value="([^"]*)"', html)
    assert match, f"no input {name}"
    return match.group(1)


def _textarea(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', html)
    assert match, f"no textarea {name}"
    return match.group(1)


def test_reply_templates_create_edit_and_remove(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    page = client.get("/personas/new").text
    # Two blank rows with labels, and the auto-send field.
    assert 'for="f-rt_id_0"' in page and 'for="f-rt_text_1"' in page
    assert 'for="f-auto_send_classes"' in page
    r = client.post(
        "/personas/new",
        data={
            **BASE,
            "csrf_token": csrf_from(page),
            "rt_id_0": "",
            "rt_class_0": "",
            "rt_text_0": "",
            "rt_id_1": "thanks",
            "rt_class_1": "gratitude",
            "rt_text_1": "Thanks {author}, glad it helped!",
            "auto_send_classes": "gratitude",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    persona = owner.get("/api/v1/personas").json()["items"][0]
    assert persona["reply_templates"] == {
        "templates": [
            {"id": "thanks", "class": "gratitude", "text": "Thanks {author}, glad it helped!"}
        ],
        "auto_send_classes": ["gratitude"],
    }

    detail = " ".join(
        re.sub(r"<[^>]+>", " ", client.get(f"/personas/{persona['id']}").text).split()
    )
    assert "Reply templates 1 (thanks); sent without approval: gratitude" in detail
    # The edit form shows the template in row 0 (blank rows dropped) and two new blank rows.
    edit = client.get(f"/personas/{persona['id']}/edit").text
    assert _value(edit, "rt_id_0") == "thanks"
    assert _value(edit, "rt_class_0") == "gratitude"
    assert _textarea(edit, "rt_text_0") == "Thanks {author}, glad it helped!"
    assert _value(edit, "auto_send_classes") == "gratitude"
    assert _value(edit, "rt_id_2") == "" and 'name="rt_id_3"' not in edit

    # Add a second template, stop auto-sending; then clear the first row to remove it.
    form = {
        **BASE,
        "csrf_token": csrf_from(edit),
        "version": "1",
        "rt_id_0": "thanks",
        "rt_class_0": "gratitude",
        "rt_text_0": "Thanks {author}, glad it helped!",
        "rt_id_1": "pricing",
        "rt_class_1": "sales",
        "rt_text_1": "Happy to talk, {author}: DM me.",
        "auto_send_classes": "",
    }
    r = client.post(f"/personas/{persona['id']}/edit", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    saved = owner.get(f"/api/v1/personas/{persona['id']}").json()["reply_templates"]
    assert [t["id"] for t in saved["templates"]] == ["thanks", "pricing"]
    assert saved["auto_send_classes"] == []
    r = client.post(
        f"/personas/{persona['id']}/edit",
        data={**form, "version": "2", "rt_id_0": "", "rt_class_0": "", "rt_text_0": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    saved = owner.get(f"/api/v1/personas/{persona['id']}").json()["reply_templates"]
    assert [t["id"] for t in saved["templates"]] == ["pricing"]


def test_reply_template_errors_are_shown_next_to_the_field(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    page = client.get("/personas/new").text
    data = {
        **BASE,
        "csrf_token": csrf_from(page),
        "rt_id_0": "bad id!",
        "rt_class_0": "gratitude",
        "rt_text_0": "Thanks!",
        "rt_id_1": "ok",
        "rt_class_1": "",
        "rt_text_1": "No class here",
    }
    r = client.post("/personas/new", data=data)
    assert r.status_code == 422
    assert 'id="e-rt_id_0"' in r.text and 'id="e-rt_class_1"' in r.text
    assert "Use up to 50 letters, digits" in r.text
    assert 'id="f-rt_id_0" name="rt_id_0" type="text" value="bad id!"' in r.text  # kept as typed
    assert _textarea(r.text, "rt_text_1") == "No class here"
    assert owner.get("/api/v1/personas").json()["total"] == 0

    # A class to auto-send that no template has: the API's message, at the auto-send field.
    r = client.post(
        "/personas/new",
        data={
            **BASE,
            "csrf_token": csrf_from(page),
            "rt_id_0": "thanks",
            "rt_class_0": "gratitude",
            "rt_text_0": "Thanks!",
            "auto_send_classes": "gratitude, pricing",
        },
    )
    assert r.status_code == 422
    error = re.search(r'id="e-auto_send_classes" role="alert">([^<]+)<', r.text)
    assert error and "pricing" in error.group(1) and "no template has" in error.group(1)
    assert _value(r.text, "auto_send_classes") == "gratitude, pricing"

    # Duplicate ids: the message sits on the templates group.
    r = client.post(
        "/personas/new",
        data={
            **BASE,
            "csrf_token": csrf_from(page),
            "rt_id_0": "thanks",
            "rt_class_0": "a",
            "rt_text_0": "One",
            "rt_id_1": "thanks",
            "rt_class_1": "b",
            "rt_text_1": "Two",
        },
    )
    assert r.status_code == 422
    assert 'id="e-reply_templates"' in r.text and "must be unique" in r.text
    assert owner.get("/api/v1/personas").json()["total"] == 0


def test_reply_template_form_needs_csrf(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    r = client.post(
        "/personas/new",
        data={**BASE, "rt_id_0": "x", "rt_class_0": "x", "rt_text_0": "x"},
    )
    assert r.status_code in (400, 403)
    assert owner.get("/api/v1/personas").json()["total"] == 0


def test_legacy_reply_templates_are_shown_for_editing(
    client: Any, owner: Actor, session_factory: Any
) -> None:
    """Templates stored in the simple {id: text} form appear as rows too."""
    web_login(client, owner.email)
    created = owner.post("/api/v1/personas", json={"name": "Legacy"}).json()
    _set_raw_templates(session_factory, created["id"], {"thanks": "Thanks {author}!"})
    edit = client.get(f"/personas/{created['id']}/edit").text
    assert _value(edit, "rt_id_0") == "thanks" and _value(edit, "rt_class_0") == "thanks"
    assert _textarea(edit, "rt_text_0") == "Thanks {author}!"


def _set_raw_templates(factory: Any, persona_id: str, raw: dict[str, Any]) -> None:
    import uuid

    from digipersona.models import Persona

    with factory() as session:
        persona = session.get(Persona, uuid.UUID(persona_id))
        persona.reply_templates = raw
        session.commit()
