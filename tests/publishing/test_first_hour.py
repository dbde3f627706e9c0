"""Issue 17: live events say the post's status, targets without a connection are reported,
images have alt-text checks and a library, and the post page shows its history and priority."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from digipersona.kit.time import utcnow
from digipersona.models import Media, Publication
from digipersona.web.events import changes_since
from tests.conftest import Actor
from tests.publishing.conftest import approved_post
from tests.web.test_shell import csrf_from, web_login


def _png(color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buf, format="PNG")
    return buf.getvalue()


def _upload(owner: Actor, post_id: str, name: str, alt: str = "", color: Any = None) -> Any:
    return owner.post(
        f"/api/v1/content/{post_id}/media",
        files={"file": (name, _png(color or (10, 120, 200)), "image/png")},
        data={"alt_text": alt},
    )


def _draft(owner: Actor, persona_id: str, platforms: list[str] | None = None) -> dict[str, Any]:
    r = owner.post(
        "/api/v1/content",
        json={
            "persona_id": persona_id,
            "body": f"A first-hour post {uuid.uuid4().hex[:6]}",
            "platforms": platforms or ["webhook"],
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_every_live_event_carries_the_posts_status(
    owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    since = utcnow() - timedelta(seconds=1)
    post = _draft(owner, setup["persona"]["id"])
    assert owner.patch(f"/api/v1/content/{post['id']}", json={"body": "Edited"}).status_code == 200
    events, _ = changes_since(session_factory, owner.workspace_id, since)  # type: ignore[arg-type]
    edited = [e for e in events if e["type"] == "post.edited"]
    assert edited and edited[-1]["post_status"] == "draft"
    assert edited[-1]["status_label"] == "draft" and edited[-1]["post_status_label"] == "draft"

    approved = approved_post(session_factory, owner, setup["persona"]["id"], ["webhook"])
    at = (utcnow() + timedelta(hours=2)).isoformat()
    r = owner.post(f"/api/v1/content/{approved}/schedule", json={"at": at})
    assert r.status_code == 200, r.text
    with session_factory.begin() as s:
        pub = s.scalars(select(Publication).where(Publication.post_id == uuid.UUID(approved))).one()
        pub.state = "published"
        pub.updated_at = utcnow() + timedelta(seconds=1)
    events, _ = changes_since(session_factory, owner.workspace_id, since)  # type: ignore[arg-type]
    scheduled = [e for e in events if e["type"] == "post.scheduled"]
    assert scheduled and scheduled[0]["status"] and scheduled[0]["status_label"]
    published = [e for e in events if e["type"] == "publication.published"]
    assert published[0]["platform"] == "webhook"
    assert published[0]["status_label"] == "published"
    # The post's own status (derived by the engine) is what the page's label shows.
    assert published[0]["post_status"] in ("scheduled", "published")


def test_scheduling_reports_targets_without_a_connection(
    client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    post_id = approved_post(
        session_factory, owner, setup["persona"]["id"], ["linkedin", "x", "webhook"]
    )
    drafted = _draft(owner, setup["persona"]["id"], ["x", "webhook"])
    variants = {v["platform"]: v for v in drafted["variants"]}
    assert "no active X connection" in variants["x"]["warnings"][0]
    assert variants["webhook"]["warnings"] == []
    web_login(client, owner.email)
    page = client.get(f"/content/{post_id}")
    assert "No active connection for LinkedIn, X" in page.text
    # The web form refuses until the user confirms that only the webhook gets it.
    r = client.post(
        f"/content/{post_id}/schedule",
        data={"csrf_token": csrf_from(page.text), "when": "next"},
        follow_redirects=True,
    )
    assert "connect them first, or confirm" in r.text
    assert owner.get(f"/api/v1/content/{post_id}/schedule").json()["publications"] == []
    r = client.post(
        f"/content/{post_id}/schedule",
        data={"csrf_token": csrf_from(page.text), "when": "next", "skip_unconnected": "1"},
        follow_redirects=True,
    )
    assert "Skipped, not connected: linkedin, x" in r.text
    answer = owner.get(f"/api/v1/content/{post_id}/schedule").json()
    assert answer["unconnected_targets"] == ["linkedin", "x"]
    states = {t["platform"]: t["state"] for t in answer["targets"]}
    assert states == {"linkedin": "not_connected", "x": "not_connected", "webhook": "scheduled"}
    page = client.get(f"/content/{post_id}")
    assert page.text.count("no active connection: skipped") == 2
    assert "Goes to 1 of 3 targets: LinkedIn, X have no active connection" in page.text
    assert f'data-live-target="{post_id}:webhook"' in page.text

    # The API schedules too, and says what it skipped.
    other = approved_post(session_factory, owner, setup["persona"]["id"], ["x", "bluesky"])
    r = owner.post(f"/api/v1/content/{other}/schedule")
    assert r.status_code == 200, r.text
    assert r.json()["unconnected_targets"] == ["x"]


def test_missing_alt_text_is_a_warning_or_blocking(owner: Actor, setup: dict[str, Any]) -> None:
    persona_id = setup["persona"]["id"]
    post = _draft(owner, persona_id, ["webhook", "bluesky"])
    r = _upload(owner, post["id"], "chart.png")
    assert r.status_code == 201, r.text
    variants = r.json()["variants"]
    assert all(any("no alt text" in w for w in v["warnings"]) for v in variants)
    assert all(v["valid"] for v in variants)

    owner.patch(f"/api/v1/personas/{persona_id}", json={"require_alt_text": True})
    r = owner.post(f"/api/v1/content/{post['id']}/submit")
    assert r.status_code == 422 and "no alt text" in r.text

    media_id = r.json() and owner.get(f"/api/v1/content/{post['id']}").json()["media"][0]["id"]
    r = owner.patch(
        f"/api/v1/content/{post['id']}/media/{media_id}", json={"alt_text": "A blue chart"}
    )
    assert r.status_code == 200, r.text
    assert not any(v["warnings"] or v["problems"] for v in r.json()["variants"])
    assert owner.post(f"/api/v1/content/{post['id']}/submit").status_code == 200


def test_images_reorder_remove_reuse_and_library(
    owner: Actor, outsider: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    post = _draft(owner, setup["persona"]["id"])
    _upload(owner, post["id"], "one.png", "one", (1, 2, 3))
    r = _upload(owner, post["id"], "two.png", "two", (4, 5, 6))
    first, second = (m["id"] for m in r.json()["media"])
    r = owner.patch(f"/api/v1/content/{post['id']}/media/{second}", json={"position": 0})
    assert [m["filename"] for m in r.json()["media"]] == ["two.png", "one.png"]

    other = _draft(owner, setup["persona"]["id"])
    r = owner.post(f"/api/v1/content/{other['id']}/media/reuse", json={"media_id": second})
    assert r.status_code == 200, r.text
    assert r.json()["media"][0]["alt_text"] == "two"
    library = owner.get("/api/v1/media").json()
    uses = {item["media"]["filename"]: set(map(str, item["post_ids"])) for item in library}
    assert uses == {"one.png": {post["id"]}, "two.png": {post["id"], other["id"]}}

    assert owner.delete(f"/api/v1/media/{first}").status_code == 409  # still on a post
    r = owner.delete(f"/api/v1/content/{post['id']}/media/{first}")
    assert [m["filename"] for m in r.json()["media"]] == ["two.png"]
    library = {i["media"]["filename"]: i["post_ids"] for i in owner.get("/api/v1/media").json()}
    assert library["one.png"] == []  # unused, still in the library

    # Another workspace sees none of it.
    assert outsider.delete(f"/api/v1/media/{first}").status_code == 404
    assert outsider.get("/api/v1/media").json() == []
    r = outsider.post(f"/api/v1/content/{post['id']}/media/reuse", json={"media_id": first})
    assert r.status_code == 404

    assert owner.delete(f"/api/v1/media/{first}").status_code == 204
    with session_factory() as s:
        assert s.get(Media, uuid.UUID(first)) is None


def test_editor_and_library_pages(
    client: Any, owner: Actor, outsider: Actor, setup: dict[str, Any]
) -> None:
    post = _draft(owner, setup["persona"]["id"])
    web_login(client, owner.email)
    page = client.get(f"/content/{post['id']}")
    token = csrf_from(page.text)
    assert 'accept="image/*"' in page.text and 'capture="environment"' in page.text
    r = client.post(
        f"/content/{post['id']}/media",
        data={"csrf_token": token},
        files={"file": ("drop.png", _png(), "image/png")},
        follow_redirects=True,
    )
    assert "Add alt text" in r.text and "has no alt text" in r.text
    media_id = owner.get(f"/api/v1/content/{post['id']}").json()["media"][0]["id"]
    assert client.get(f"/media/{media_id}").headers["content-type"] == "image/png"
    r = client.post(
        f"/content/{post['id']}/media/{media_id}",
        data={"csrf_token": token, "action": "alt", "alt_text": "A drop of water"},
        follow_redirects=True,
    )
    assert 'alt="A drop of water"' in r.text and "has no alt text" not in r.text
    # Without the CSRF token nothing changes.
    r = client.post(f"/content/{post['id']}/media/{media_id}", data={"action": "remove"})
    assert r.status_code == 403
    # Priority from the editor, and the history of each version.
    r = client.post(
        f"/content/{post['id']}/edit",
        data={
            "csrf_token": token,
            "body": "Second version",
            "priority": "50",
            "version": str(owner.get(f"/api/v1/content/{post['id']}").json()["version"]),
        },
        follow_redirects=True,
    )
    assert owner.get(f"/api/v1/content/{post['id']}").json()["priority"] == 50
    assert 'value="50" selected' in r.text
    assert "created the post" in r.text and "Second version" in r.text
    assert owner.email in r.text
    library = client.get("/media")
    assert "drop.png" in library.text and f"/content/{post['id']}" in library.text
    # Another workspace's image and post answer 404.
    assert outsider.get(f"/api/v1/content/{post['id']}").status_code == 404
    other_client = type(client)(client.app)
    web_login(other_client, outsider.email)
    assert other_client.get(f"/media/{media_id}").status_code == 404


def test_calendar_feed_and_audit_pages(client: Any, owner: Actor, setup: dict[str, Any]) -> None:
    web_login(client, owner.email)
    page = client.get("/calendar")
    assert "The feed is off" in page.text
    r = client.post("/calendar/feed", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 200 and 'data-copy="feed-url"' in r.text
    url = r.text.split('id="feed-url"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    path = "/" + url.split("/", 3)[3]
    assert client.get(path).status_code == 200
    page = client.get("/calendar")
    assert "A feed is on" in page.text
    client.post("/calendar/feed/revoke", data={"csrf_token": csrf_from(page.text)})
    assert client.get(path).status_code == 404

    for n in range(55):
        owner.post("/api/v1/personas", json={"name": f"P{n}"})
    audit = client.get("/settings/audit", params={"object_type": "persona"})
    assert audit.status_code == 200
    assert audit.text.count('data-action="persona.created"') == 50
    older = audit.text.split('href="', 1)[0] and audit.text.split("Older")[0].rsplit('href="', 1)[1]
    next_page = client.get(older.split('"', 1)[0].replace("&amp;", "&"))
    assert next_page.text.count('data-action="persona.created"') == 6  # 55 + Dana
    none = client.get("/settings/audit", params={"action": "media."})
    assert "No events match" in none.text


def test_dashboard_shows_times_in_the_personas_zone(
    client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    post_id = approved_post(session_factory, owner, setup["persona"]["id"], ["webhook"])
    at = (utcnow() + timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)
    r = owner.post(f"/api/v1/content/{post_id}/schedule", json={"at": at.isoformat()})
    assert r.status_code == 200, r.text
    web_login(client, owner.email)
    page = client.get("/dashboard").text
    local = at.astimezone(ZoneInfo("Europe/Berlin"))
    shown = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    assert f'title="{at:%Y-%m-%d %H:%M} UTC">{shown}</time>' in page
    assert (
        f'title="{at:%Y-%m-%d %H:%M} UTC">{shown}</time>' in client.get(f"/content/{post_id}").text
    )


def test_the_audit_page_is_for_owners_and_admins(
    client: Any, owner: Actor, collaborator: Actor
) -> None:
    web_login(client, collaborator.email)
    assert client.get("/settings/audit").status_code == 403
    web_login(client, owner.email)
    page = client.get("/settings/audit", params={"actor": str(owner.user_id)})
    assert page.status_code == 200
    assert 'data-action="invitation.' in page.text
    assert client.get("/settings/audit", params={"cursor": "not-a-cursor"}).status_code == 422
