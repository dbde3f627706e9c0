"""Settings -> AI as a page: admins only, CSRF-checked, the key never sent back to the browser."""

from __future__ import annotations

from typing import Any

from tests.ai.conftest import KEY
from tests.conftest import Actor
from tests.fakes.llm_openai import FakeOpenAI
from tests.web.test_shell import csrf_from, web_login


def test_ai_page_save_test_and_models(
    client: Any, owner: Actor, fake: tuple[FakeOpenAI, str]
) -> None:
    _, url = fake
    web_login(client, owner.email)
    page = client.get("/settings/ai")
    assert page.status_code == 200 and "offline writer" in page.text
    token = csrf_from(page.text)
    form = {
        "csrf_token": token,
        "provider": "openai_compatible",
        "base_url": url,
        "model": "small-model",
        "api_key": KEY,
    }
    refused = client.post("/settings/ai", data={**form, "csrf_token": "wrong"})
    assert refused.status_code == 403
    listed = client.post("/settings/ai/models", data=form)
    assert "other-model" in listed.text and KEY not in listed.text
    tested = client.post("/settings/ai/test", data=form)
    assert "The model answered" in tested.text and KEY not in tested.text
    saved = client.post("/settings/ai", data=form, follow_redirects=True)
    assert "AI settings saved." in saved.text and KEY not in saved.text
    assert "its own provider" in saved.text
    bad = client.post(
        "/settings/ai", data={**form, "monthly_budget_usd": "lots"}, follow_redirects=True
    )
    assert bad.status_code == 200 and "must be numbers" in bad.text


def test_ai_page_is_for_admins(client: Any, owner: Actor, collaborator: Actor) -> None:
    web_login(client, collaborator.email)
    assert client.get("/settings/ai").status_code == 403
