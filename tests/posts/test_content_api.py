"""Content API: generate offline, hand-written drafts, variants, guardrails, approval workflow."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from digipersona.models import AuditEvent, Post
from tests.conftest import Actor


@pytest.fixture
def persona(owner: Actor) -> dict[str, Any]:
    r = owner.post(
        "/api/v1/personas",
        json={
            "name": "Dana",
            "voice": "warm, direct",
            "topics": ["platform teams", "developer experience"],
            "audience": "engineering managers",
            "hashtags": ["#devops"],
            "banned_phrases": ["synergy"],
            "timezone": "Europe/Berlin",
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def draft(
    owner: Actor, persona: dict[str, Any], body: str, platforms: list[str] | None = None
) -> dict[str, Any]:
    r = owner.post(
        "/api/v1/content",
        json={
            "persona_id": persona["id"],
            "body": body,
            "platforms": platforms or ["linkedin", "x", "bluesky"],
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_generate_offline_with_template_provider(owner: Actor, persona: dict[str, Any]) -> None:
    r = owner.post(
        "/api/v1/content/generate",
        json={
            "persona_id": persona["id"],
            "brief": "Why platform teams need product managers",
            "platforms": ["linkedin", "x"],
            "count": 3,
            "seed": 7,
        },
    )
    assert r.status_code == 201, r.text
    items = r.json()["items"]
    assert len(items) == 3
    for item in items:
        assert item["status"] == "draft"
        assert item["body"].strip()
        assert "synergy" not in item["body"].lower()
        assert {v["platform"] for v in item["variants"]} == {"linkedin", "x"}
        for variant in item["variants"]:
            assert set(variant) >= {"platform", "parts", "lengths", "valid", "problems"}
            assert len(variant["parts"]) == len(variant["lengths"])
    assert len({i["body"] for i in items}) == 3


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"brief": ""}, 422, "brief"),
        ({"brief": "   "}, 422, "brief is empty"),
        ({"count": 0}, 422, "count"),
        ({"count": 6}, 422, "count"),
        ({"platforms": ["myspace"]}, 422, "platforms"),
        ({"platforms": []}, 422, "platforms"),
    ],
)
def test_generate_bad_input(
    owner: Actor,
    persona: dict[str, Any],
    session_factory: Any,
    body: dict[str, Any],
    status: int,
    fragment: str,
) -> None:
    payload = {"persona_id": persona["id"], "brief": "b", "platforms": ["x"], "count": 1, **body}
    r = owner.post("/api/v1/content/generate", json=payload)
    assert r.status_code == status, r.text
    assert fragment in r.text
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Post)) == 0


def test_generate_unknown_persona_is_404(
    owner: Actor, outsider: Actor, persona: dict[str, Any]
) -> None:
    r = outsider.post(
        "/api/v1/content/generate",
        json={"persona_id": persona["id"], "brief": "b", "platforms": ["x"]},
    )
    assert r.status_code == 404


def test_tricky_text_variants(owner: Actor, persona: dict[str, Any]) -> None:
    body = (
        "Ship it 🚀👩‍👩‍👧‍👦 with café (e\u0301) and 日本語のテキスト. See https://example.com/a_(b) "
        "and @dana.bsky.social #PlatformEng " + "More words here. " * 40
    )
    post = draft(owner, persona, body)
    by = {v["platform"]: v for v in post["variants"]}
    assert len(by["x"]["parts"]) > 1  # threaded
    assert all(length <= 280 for length in by["x"]["lengths"])
    assert by["x"]["valid"] and by["bluesky"]["valid"] and by["linkedin"]["valid"]
    joined = " ".join(by["bluesky"]["parts"])
    assert "https://example.com/a_(b)" in joined
    assert "👩‍👩‍👧‍👦" in joined
    assert "#devops" in by["linkedin"]["parts"][0]  # persona hashtag merged
    r = owner.get(f"/api/v1/content/{post['id']}/variants")
    assert r.status_code == 200
    assert {v["platform"] for v in r.json()} == {"linkedin", "x", "bluesky"}


def test_text_that_cannot_fit_says_by_how_much(owner: Actor, persona: dict[str, Any]) -> None:
    post = draft(owner, persona, "x" * 3100, ["linkedin"])
    [variant] = post["variants"]
    assert variant["valid"] is False
    assert any("100" in p or "3" in p for p in variant["problems"])
    r = owner.post(f"/api/v1/content/{post['id']}/submit")
    assert r.status_code == 422
    assert r.json()["errors"]


def test_guardrails_block_review_with_what_to_change(owner: Actor, persona: dict[str, Any]) -> None:
    post = draft(
        owner, persona, "Our synergy is unmatched, read https://spam.example/x", ["linkedin"]
    )
    owner.patch(f"/api/v1/personas/{persona['id']}", json={"blocked_domains": ["spam.example"]})
    r = owner.post(f"/api/v1/content/{post['id']}/submit")
    assert r.status_code == 422
    codes = {e["code"] for e in r.json()["errors"]}
    assert {"banned_phrase", "blocked_domain"} <= codes
    assert owner.get(f"/api/v1/content/{post['id']}").json()["status"] == "draft"


def test_a_link_to_a_blocked_domain_blocks_review_even_outside_the_body(
    owner: Actor, persona: dict[str, Any]
) -> None:
    """The link is published as a card apart from the body, so it is checked on its own."""
    owner.patch(f"/api/v1/personas/{persona['id']}", json={"blocked_domains": ["spam.example"]})
    r = owner.post(
        "/api/v1/content",
        json={
            "persona_id": persona["id"],
            "body": "Written updates beat meetings.",
            "platforms": ["linkedin"],
            "link_url": "https://news.spam.example/why",
        },
    )
    assert r.status_code == 201, r.text
    r = owner.post(f"/api/v1/content/{r.json()['id']}/submit")
    assert r.status_code == 422
    assert [e["code"] for e in r.json()["errors"]] == ["blocked_domain"]
    assert "news.spam.example" in r.json()["detail"]


def test_near_duplicate_is_flagged(owner: Actor, persona: dict[str, Any]) -> None:
    text = "Platform teams succeed when they treat developers as customers and measure adoption weekly."
    draft(owner, persona, text, ["linkedin"])
    second = draft(owner, persona, text + "!", ["linkedin"])
    r = owner.post(f"/api/v1/content/{second['id']}/submit")
    assert r.status_code == 422
    assert "near_duplicate" in {e["code"] for e in r.json()["errors"]}


def test_approval_workflow_and_audit(
    owner: Actor, persona: dict[str, Any], make_member: Any, session_factory: Any
) -> None:
    approver = make_member("approver")
    editor = make_member("editor")
    post = draft(editor, persona, "A clean post about platform teams.", ["linkedin"])
    pid = post["id"]
    r = approver.post(f"/api/v1/content/{pid}/approve")
    assert r.status_code == 409
    assert r.json()["current_status"] == "draft"
    assert editor.post(f"/api/v1/content/{pid}/submit").json()["status"] == "in_review"
    assert editor.post(f"/api/v1/content/{pid}/approve").status_code == 403
    r = approver.post(
        f"/api/v1/content/{pid}/reject", json={"reason": "Too vague: add a concrete example."}
    )
    assert r.json()["status"] == "rejected"
    assert r.json()["rejection_reason"] == "Too vague: add a concrete example."
    r = editor.patch(
        f"/api/v1/content/{pid}",
        json={"body": "A clean post about platform teams, with an example."},
    )
    assert r.json()["status"] == "draft"
    editor.post(f"/api/v1/content/{pid}/submit")
    r = approver.post(f"/api/v1/content/{pid}/approve", json={"comment": "good"})
    assert r.json()["status"] == "approved"
    # Editing an approved post sends it back to review.
    r = editor.patch(f"/api/v1/content/{pid}", json={"body": "Changed after approval."})
    assert r.json()["status"] == "in_review"
    with session_factory() as s:
        changes = [
            (e.data.get("from"), e.data.get("to"))
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "post.status_changed")
                .order_by(AuditEvent.created_at)
            )
        ]
    assert changes == [
        ("draft", "in_review"),
        ("in_review", "rejected"),
        ("rejected", "draft"),
        ("draft", "in_review"),
        ("in_review", "approved"),
        ("approved", "in_review"),
    ]
    history = owner.get(f"/api/v1/content/{pid}/history").json()
    assert history[0]["action"] == "post.created"


def test_reject_needs_a_reason(owner: Actor, persona: dict[str, Any]) -> None:
    post = draft(owner, persona, "Text", ["x"])
    owner.post(f"/api/v1/content/{post['id']}/submit")
    assert (
        owner.post(f"/api/v1/content/{post['id']}/reject", json={"reason": "  "}).status_code == 422
    )
    assert owner.post(f"/api/v1/content/{post['id']}/reject", json={}).status_code == 422


def test_auto_approve_persona_skips_review(owner: Actor, persona: dict[str, Any]) -> None:
    owner.patch(f"/api/v1/personas/{persona['id']}", json={"approval_policy": "auto_approve"})
    post = draft(owner, persona, "Auto approved text", ["x"])
    assert owner.post(f"/api/v1/content/{post['id']}/submit").json()["status"] == "approved"


def test_drafts_token_can_draft_but_never_approve(
    client: Any, owner: Actor, persona: dict[str, Any]
) -> None:
    token = owner.post("/api/v1/tokens", json={"name": "agent", "scopes": ["drafts"]}).json()[
        "token"
    ]
    agent = {"Authorization": f"Bearer {token}"}
    r = client.post(
        "/api/v1/content",
        headers=agent,
        json={"persona_id": persona["id"], "body": "From an agent", "platforms": ["x"]},
    )
    assert r.status_code == 201
    pid = r.json()["id"]
    assert client.post(f"/api/v1/content/{pid}/submit", headers=agent).status_code == 200
    r = client.post(f"/api/v1/content/{pid}/approve", headers=agent)
    assert r.status_code == 403
    assert "approve" in r.json()["detail"]
    assert client.post(f"/api/v1/content/{pid}/schedule", headers=agent).status_code == 403


def test_deleting_a_post_past_draft_needs_edit_rights(
    client: Any, owner: Actor, persona: dict[str, Any], make_member: Any, session_factory: Any
) -> None:
    token = owner.post("/api/v1/tokens", json={"name": "agent", "scopes": ["drafts"]}).json()[
        "token"
    ]
    agent = {"Authorization": f"Bearer {token}"}
    approver = make_member("approver")
    in_review = draft(owner, persona, "Waiting for review", ["x"])["id"]
    owner.post(f"/api/v1/content/{in_review}/submit")
    approved = draft(owner, persona, "Approved already", ["x"])["id"]
    owner.post(f"/api/v1/content/{approved}/submit")
    assert owner.post(f"/api/v1/content/{approved}/approve").json()["status"] == "approved"
    for pid in (in_review, approved):
        r = client.delete(f"/api/v1/content/{pid}", headers=agent)
        assert r.status_code == 403, r.text
        assert "'write' scope" in r.json()["detail"]
        r = approver.delete(f"/api/v1/content/{pid}")
        assert r.status_code == 403, r.text
        assert "approver" in r.json()["detail"]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Post)) == 2
    # Drafts are still theirs to throw away; an editor may delete reviewed work.
    mine = draft(owner, persona, "Scratch", ["x"])["id"]
    assert client.delete(f"/api/v1/content/{mine}", headers=agent).status_code == 204
    editor = make_member("editor")
    assert editor.delete(f"/api/v1/content/{approved}").status_code == 204


def test_version_conflict_on_stale_decision(owner: Actor, persona: dict[str, Any]) -> None:
    post = draft(owner, persona, "Versioned", ["x"])
    submitted = owner.post(f"/api/v1/content/{post['id']}/submit").json()
    owner.patch(f"/api/v1/content/{post['id']}", json={"body": "Changed meanwhile"})
    r = owner.post(f"/api/v1/content/{post['id']}/approve", json={"version": submitted["version"]})
    assert r.status_code == 409
    assert r.json()["current_version"] > submitted["version"]


def test_list_filters(owner: Actor, persona: dict[str, Any]) -> None:
    a = draft(owner, persona, "alpha about kubernetes", ["x"])
    draft(owner, persona, "beta about people", ["linkedin"])
    owner.post(f"/api/v1/content/{a['id']}/submit")
    assert owner.get("/api/v1/content", params={"status": "in_review"}).json()["total"] == 1
    assert owner.get("/api/v1/content", params={"platform": "linkedin"}).json()["total"] == 1
    assert owner.get("/api/v1/content", params={"q": "KUBERNETES"}).json()["total"] == 1
    assert owner.get("/api/v1/content", params={"status": "bogus"}).status_code == 422


def test_suggestions_propose_without_applying(owner: Actor, persona: dict[str, Any]) -> None:
    body = "I think that, honestly, platform teams should really maybe start measuring adoption every single week."
    post = draft(owner, persona, body, ["x"])
    r = owner.post(f"/api/v1/content/{post['id']}/suggestions", json={"kind": "shorten"})
    assert r.status_code == 200, r.text
    assert len(r.json()["text"]) < len(body)
    assert owner.get(f"/api/v1/content/{post['id']}").json()["body"] == body
    r = owner.post(
        f"/api/v1/content/{post['id']}/suggestions", json={"kind": "translate", "language": "de"}
    )
    assert r.status_code == 400
    assert "DIGIPERSONA_LLM" in r.json()["detail"] or "AI provider" in r.json()["detail"]
    assert (
        owner.post(f"/api/v1/content/{post['id']}/suggestions", json={"kind": "magic"}).status_code
        == 422
    )


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def test_image_upload_checks_type_and_size(owner: Actor, persona: dict[str, Any]) -> None:
    post = draft(owner, persona, "With an image", ["x", "bluesky"])
    r = owner.post(
        f"/api/v1/content/{post['id']}/media",
        files={"file": ("chart.png", _png(1200, 800), "image/png")},
        data={"alt_text": "A blue chart"},
    )
    assert r.status_code == 201, r.text
    [media] = r.json()["media"]
    assert (media["width"], media["height"], media["mime_type"], media["alt_text"]) == (
        1200,
        800,
        "image/png",
        "A blue chart",
    )
    r = owner.post(
        f"/api/v1/content/{post['id']}/media",
        files={"file": ("notes.png", b"%PDF-1.4 not an image", "image/png")},
    )
    assert r.status_code == 422
    assert "JPEG, PNG, GIF or WebP" in r.json()["detail"]
    assert len(owner.get(f"/api/v1/content/{post['id']}").json()["media"]) == 1


@pytest.mark.parametrize(
    ("field", "hint"),
    [
        ("body", "a post needs a body"),
        ("platforms", "a post needs at least one platform"),
        ("brief", 'send "" to empty the brief'),
        ("tags", "send [] to remove every tag"),
        ("thread_numbering", "send true or false"),
        ("priority", "send 0 for the default priority"),
    ],
)
def test_patch_null_is_422_for_fields_that_cannot_be_empty(
    owner: Actor, persona: dict[str, Any], field: str, hint: str
) -> None:
    post = draft(owner, persona, "A post about platform teams")
    r = owner.patch(f"/api/v1/content/{post['id']}", json={field: None})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": field, "message": f"cannot be null: {hint}"}]
    assert owner.get(f"/api/v1/content/{post['id']}").json()["version"] == post["version"]


def test_patch_null_clears_the_optional_fields(owner: Actor, persona: dict[str, Any]) -> None:
    r = owner.post(
        "/api/v1/content",
        json={
            "persona_id": persona["id"],
            "body": "A post about platform teams",
            "platforms": ["linkedin"],
            "link_url": "https://example.com/a",
            "linkedin_comment": "More in the comments",
        },
    )
    assert r.status_code == 201, r.text
    r = owner.patch(
        f"/api/v1/content/{r.json()['id']}",
        json={"link_url": None, "linkedin_comment": None, "version": None},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["link_url"], r.json()["linkedin_comment"]) == (None, None)


def test_repeated_platforms_count_once_on_patch_as_on_create(
    owner: Actor, persona: dict[str, Any]
) -> None:
    post = draft(owner, persona, "A post about platform teams", ["linkedin", "linkedin"])
    assert post["platforms"] == ["linkedin"]
    r = owner.patch(f"/api/v1/content/{post['id']}", json={"platforms": ["x", "bluesky", "x"]})
    assert r.status_code == 200, r.text
    assert r.json()["platforms"] == ["x", "bluesky"]
    assert sorted(v["platform"] for v in r.json()["variants"]) == ["bluesky", "x"]
