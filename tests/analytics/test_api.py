"""Analytics API and pages: shapes, totals, best times, "not provided" figures, scoping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from digipersona.models import Connection, MetricSnapshot, MetricsSchedule, Post, Publication
from digipersona.publishing import summary
from tests.conftest import Actor
from tests.web.test_shell import web_login


def seed(
    factory: Any,
    actor: Actor,
    persona_id: str,
    platform: str,
    published_at: datetime,
    figures: dict[str, int | None] | None,
    *,
    body: str = "A post",
    history: int = 1,
) -> tuple[str, str]:
    """A published post with one publication and ``history`` snapshots; (post id, pub id)."""
    with factory.begin() as s:
        conn = Connection(
            workspace_id=actor.workspace_id,
            persona_id=uuid.UUID(persona_id),
            platform=platform,
            account_id=f"acct-{uuid.uuid4().hex[:8]}",
            access_token_enc="x",
        )
        post = Post(
            workspace_id=actor.workspace_id,
            persona_id=uuid.UUID(persona_id),
            body=body,
            status="published",
            platforms=[platform],
        )
        s.add_all([conn, post])
        s.flush()
        pub = Publication(
            workspace_id=actor.workspace_id,
            post_id=post.id,
            connection_id=conn.id,
            platform=platform,
            scheduled_at=published_at,
            next_attempt_at=published_at,
            idempotency_key=uuid.uuid4().hex,
            state="published",
            external_id=uuid.uuid4().hex,
            external_url="https://example.com/p",
            published_at=published_at,
        )
        s.add(pub)
        s.flush()
        if figures is not None:
            for n in range(history):
                scaled = {k: (v * (n + 1) if v is not None else None) for k, v in figures.items()}
                s.add(
                    MetricSnapshot(
                        workspace_id=actor.workspace_id,
                        publication_id=pub.id,
                        taken_at=published_at + timedelta(hours=1 + 5 * n),
                        stage=n,
                        **scaled,
                    )
                )
        summary.refresh(s, [pub.id])  # as the engine and the metrics sync do
        return str(post.id), str(pub.id)


def persona(owner: Actor, tz: str = "Europe/Berlin") -> str:
    r = owner.post("/api/v1/personas", json={"name": f"P{uuid.uuid4().hex[:4]}", "timezone": tz})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


FULL = {"likes": 3, "reposts": 1, "replies": 2, "quotes": 0, "impressions": 100}


def test_content_analytics_snapshots_totals_and_unsupported(
    owner: Actor, outsider: Actor, session_factory: Any
) -> None:
    pid = persona(owner)
    at = datetime(2026, 11, 3, 5, 30, tzinfo=UTC)
    post_id, _ = seed(session_factory, owner, pid, "x", at, FULL, history=3)
    r = owner.get(f"/api/v1/content/{post_id}/analytics")
    assert r.status_code == 200, r.text
    body = r.json()
    (pub,) = body["publications"]
    assert [s["likes"] for s in pub["snapshots"]] == [3, 6, 9]
    assert pub["latest"]["engagements"] == 9 + 3 + 6 + 0
    assert body["totals"]["impressions"] == 300
    assert pub["sync"]["state"] == "pending"  # not picked up by the sync job yet
    assert "impressions" in pub["provided_fields"]

    # A LinkedIn publication whose metrics are unsupported: the note, never zeros.
    li_post, li_pub = seed(session_factory, owner, pid, "linkedin", at, None)
    with session_factory.begin() as s:
        pub_row = s.get(Publication, uuid.UUID(li_pub))
        s.add(
            MetricsSchedule(
                workspace_id=owner.workspace_id,
                publication_id=pub_row.id,
                connection_id=pub_row.connection_id,
                platform="linkedin",
                published_at=at,
                stopped_reason="unsupported",
                stopped_note="LinkedIn gives ordinary apps no metrics (r_member_postAnalytics).",
            )
        )
    body = owner.get(f"/api/v1/content/{li_post}/analytics").json()
    (pub,) = body["publications"]
    assert pub["sync"]["state"] == "unsupported" and "r_member_postAnalytics" in pub["sync"]["note"]
    assert pub["snapshots"] == [] and pub["latest"] is None
    assert body["totals"] == dict.fromkeys((*FULL, "engagements"))

    assert outsider.get(f"/api/v1/content/{post_id}/analytics").status_code == 404
    assert owner.get(f"/api/v1/content/{uuid.uuid4()}/analytics").status_code == 404


def test_workspace_analytics_best_times_trend_top(
    owner: Actor, outsider: Actor, session_factory: Any
) -> None:
    pid = persona(owner, "Europe/Berlin")
    # Tuesdays 06:30 Berlin (05:30 UTC) do well; Fridays 17:00 Berlin do badly.
    base = datetime(2026, 11, 3, 5, 30, tzinfo=UTC)  # a Tuesday, CET (UTC+1)
    for week in range(4):
        seed(
            session_factory,
            owner,
            pid,
            "x",
            base + timedelta(weeks=week),
            {**FULL, "likes": 40 + week},
            body=f"Tuesday post {week}",
        )
        seed(
            session_factory,
            owner,
            pid,
            "x",
            base + timedelta(weeks=week, days=3, hours=10, minutes=30),
            {**FULL, "likes": 2},
            body=f"Friday post {week}",
        )
    seed(session_factory, owner, pid, "linkedin", base + timedelta(days=1), None, body="No figures")
    autumn = {"start": "2026-10-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"}
    r = owner.get("/api/v1/analytics", params={"persona_id": pid, **autumn})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["posts"] == 9 and data["measured_posts"] == 8
    assert data["timezone"] == "Europe/Berlin"
    best = data["best_times"]
    assert best["enough_data"] and best["best_weekday"] == "Tue" and best["best_hour"] == 6
    tue = next(w for w in best["weekdays"] if w["weekday"] == "Tue")
    assert tue["posts"] == 4 and tue["median_engagement"] == 41.5 + 3
    assert data["top_posts"][0]["excerpt"] == "Tuesday post 3"
    assert sum(p["posts"] for p in data["trend"]) == 9
    assert data["totals"]["likes"] == 40 + 41 + 42 + 43 + 8
    linkedin = next(p for p in data["platforms"] if p["platform"] == "linkedin")
    assert "r_member_postAnalytics" in linkedin["note"]

    only_x = owner.get("/api/v1/analytics", params={"platform": "x", **autumn}).json()
    assert only_x["posts"] == 8
    window = owner.get(
        "/api/v1/analytics",
        params={"start": "2026-11-03T00:00:00Z", "end": "2026-11-05T00:00:00Z"},
    ).json()
    assert window["posts"] == 2 and len(window["trend"]) == 2

    # Another workspace sees nothing of it and cannot name the persona.
    assert outsider.get("/api/v1/analytics", params=autumn).json()["posts"] == 0
    assert outsider.get("/api/v1/analytics", params={"persona_id": pid}).status_code == 404


def test_workspace_analytics_bad_input(owner: Actor) -> None:
    r = owner.get("/api/v1/analytics", params={"platform": "myspace"})
    assert r.status_code == 422 and "myspace" in r.json()["detail"]
    r = owner.get(
        "/api/v1/analytics", params={"start": "2026-10-08T00:00:00Z", "end": "2026-10-01T00:00:00Z"}
    )
    assert r.status_code == 422 and "before" in r.json()["detail"]
    r = owner.get("/api/v1/analytics", params={"start": "2026-10-08T00:00:00"})
    assert r.status_code == 422 and "zone" in r.json()["detail"]
    r = owner.get("/api/v1/analytics", params={"start": "1900-01-01T00:00:00Z"})
    assert r.status_code == 422 and "366 days" in r.json()["detail"]
    r = owner.get("/api/v1/analytics", params={"end": "1900-01-01T00:00:00Z"})
    assert r.status_code == 200 and r.json()["posts"] == 0
    r = owner.get("/api/v1/analytics", params={"start": "yesterday"})
    assert r.status_code == 422
    data = owner.get("/api/v1/analytics").json()
    assert data["posts"] == 0 and not data["best_times"]["enough_data"]
    assert "at least" in data["best_times"]["note"]


def test_analytics_page_and_dashboard_tab_render_svg(
    client: Any, owner: Actor, session_factory: Any
) -> None:
    pid = persona(owner)
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(7):
        seed(session_factory, owner, pid, "x", now - timedelta(days=n + 1), {**FULL, "likes": n})
    seed(session_factory, owner, pid, "linkedin", now - timedelta(days=2), None)
    web_login(client, owner.email)
    page = client.get("/analytics", params={"persona_id": pid})
    assert page.status_code == 200
    html = page.text
    assert html.count('<svg class="chart"') == 3  # trend, weekday bars, heatmap
    assert "<polyline" in html and "Median engagement by weekday" in html
    assert "r_member_postAnalytics" in html  # what LinkedIn does not provide, said plainly
    assert '<label for="f-persona">' in html
    dash = client.get("/dashboard", params={"tab": "analytics"})
    assert dash.status_code == 200 and '<svg class="chart"' in dash.text
    assert client.get("/analytics", params={"persona_id": "nope"}).status_code == 422
    assert client.get("/analytics", params={"persona_id": str(uuid.uuid4())}).status_code == 404
    empty = client.get("/analytics", params={"platform": "bluesky"})
    assert empty.status_code == 200 and "No published posts in this view" in empty.text


def test_slot_suggestions_with_evidence(
    owner: Actor, outsider: Actor, session_factory: Any
) -> None:
    pid = persona(owner, "Europe/Berlin")  # default slots: Tue/Thu 06:30
    few = owner.get("/api/v1/analytics/slot-suggestions", params={"persona_id": pid}).json()
    assert few["suggestions"] == [] and "at least 12" in few["note"]

    base = datetime(2026, 11, 3, 5, 30, tzinfo=UTC)  # Tue 06:30 CET: a current slot
    for week in range(5):
        # Current slot: modest. Wednesday 12:xx local: much better, on X and on LinkedIn.
        seed(session_factory, owner, pid, "x", base + timedelta(weeks=week), {**FULL, "likes": 4})
        seed(
            session_factory,
            owner,
            pid,
            "x",
            base + timedelta(weeks=week, days=1, hours=6),
            {**FULL, "likes": 30},
        )
        seed(
            session_factory,
            owner,
            pid,
            "linkedin",
            base + timedelta(weeks=week, days=1, hours=6, minutes=10),
            {**FULL, "likes": 90},
        )
    r = owner.get("/api/v1/analytics/slot-suggestions", params={"persona_id": pid})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["measured_posts"] == 15
    assert data["current"]["posts"] == 5 and data["current"]["basis"] == "current slots"
    top = data["suggestions"][0]
    assert top["rrule"] == "FREQ=WEEKLY;BYDAY=WE;BYHOUR=12;BYMINUTE=0"
    assert top["posts"] == 10 and top["median_ratio"] > data["current"]["median_ratio"] * 1.25
    assert "10 posts published Wed 12:00-12:59" in top["evidence"]
    assert (
        owner.get(
            "/api/v1/analytics/slot-suggestions", params={"persona_id": str(uuid.uuid4())}
        ).status_code
        == 404
    )
    assert (
        outsider.get("/api/v1/analytics/slot-suggestions", params={"persona_id": pid}).status_code
        == 404
    )
    assert owner.get("/api/v1/analytics/slot-suggestions").status_code == 422


def test_analytics_page_shows_slot_suggestions(
    client: Any, owner: Actor, session_factory: Any
) -> None:
    pid = persona(owner, "Europe/Berlin")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for n in range(12):
        seed(
            session_factory, owner, pid, "x", now - timedelta(days=7 * n + 1), {**FULL, "likes": 50}
        )
    web_login(client, owner.email)
    html = client.get("/analytics", params={"persona_id": pid}).text
    assert "Slot suggestions" in html


def test_editor_fragment_shows_figures_and_what_is_missing(
    client: Any, owner: Actor, session_factory: Any
) -> None:
    pid = persona(owner)
    at = datetime.now(UTC) - timedelta(hours=3)
    x_post, _ = seed(session_factory, owner, pid, "x", at, {**FULL, "quotes": None})
    web_login(client, owner.email)
    html = client.get(f"/analytics/forecast/{x_post}").text
    assert "Engagement so far" in html and "3 likes" in html
    assert 'title="not provided by the platform">n/a</span> quotes' in html
