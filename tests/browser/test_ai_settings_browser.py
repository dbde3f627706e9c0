"""An admin brings a model: Settings -> AI pointed at a real local OpenAI-compatible server,
tested, saved, and then used by the editor's Generate."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import register
from tests.browser.test_offline_approvals import api
from tests.peers.llm_harness import MODEL_ALIAS, LocalLLM

pytestmark = pytest.mark.llm


@pytest.fixture
def short_drafts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small generations keep the test short on a busy machine."""
    monkeypatch.setenv("DIGIPERSONA_LLM_DRAFT_MAX_TOKENS", "64")
    monkeypatch.setenv("DIGIPERSONA_LLM_TIMEOUT_SECONDS", "120")


def test_admin_configures_a_local_model_and_the_editor_uses_it(
    short_drafts: None, local_llm: LocalLLM, page: Any, live_server: str
) -> None:
    # A model on a busy 2-core machine may take a while; every wait is on a condition.
    page.set_default_timeout(180_000)
    register(page, live_server, email="ai-admin@example.com")
    client = api(live_server, "ai-admin@example.com")
    client.timeout = httpx.Timeout(60.0)  # the server shares 2 cores with the model
    persona = client.post(
        "/api/v1/personas", json={"name": "Local", "topics": ["remote work"]}
    ).json()

    page.goto(f"{live_server}/settings")
    page.click("#ai-settings-link")
    page.wait_for_selector("#ai-offline-note")  # the offline writer says what it is
    page.select_option("#ai-provider", "openai_compatible")
    page.fill("#ai-base-url", local_llm.base_url)
    page.click("#ai-load-models")
    page.wait_for_selector("#ai-model-list")
    assert MODEL_ALIAS in page.inner_text("#ai-model-list")
    page.fill("#ai-model", MODEL_ALIAS)
    page.click("#ai-test")
    result = page.wait_for_selector("#ai-test-result")
    assert "The model answered" in result.inner_text(), result.inner_text()
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=AI settings saved.")
    assert "its own provider" in page.inner_text("#ai-source")

    page.goto(f"{live_server}/content")
    page.fill("#g-brief", "Why written updates beat status meetings")
    page.fill("#g-count", "1")
    page.click("button:has-text('Generate')")
    page.wait_for_url(f"{live_server}/content/*")
    post_id = page.url.rsplit("/", 1)[-1]
    post = client.get(f"/api/v1/content/{post_id}").json()
    assert post["provider"] == "openai" and post["persona_id"] == persona["id"]
    assert post["body"].strip() and not post["body"].lstrip().startswith("{")
    usage = client.get("/api/v1/workspace/ai/usage").json()
    assert usage["rows"] and usage["rows"][0]["model"] == MODEL_ALIAS
