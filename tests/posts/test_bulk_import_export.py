"""Bulk import (CSV or JSON rows, dry run, all or nothing) and export (CSV or JSON)."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.conftest import Actor


def _persona(owner: Actor, name: str = "Dana") -> str:
    return str(owner.post("/api/v1/personas", json={"name": name}).json()["id"])


def _count(owner: Actor) -> int:
    return int(owner.get("/api/v1/content").json()["total"])


def test_a_dry_run_reports_every_bad_row_and_writes_nothing(owner: Actor) -> None:
    _persona(owner)
    rows: list[dict[str, Any]] = [
        {"persona": "Dana", "text": "Fine", "platforms": ["x"]},
        {"persona": "Nobody", "text": "Who?", "platforms": ["x"]},
        {"persona": "dana", "text": "", "platforms": ["myspace"]},
        {"persona": "Dana", "text": "Loud", "platforms": ["x"], "priority": 500, "extra": 1},
    ]
    r = owner.post("/api/v1/content/import?dry_run=true", json={"rows": rows})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["dry_run"] and report["rows"] == 4 and report["valid"] == 1
    problems = {(p["row"], p["field"]) for p in report["problems"]}
    assert problems == {
        (2, "persona"),
        (3, "text"),
        (3, "platforms.0"),
        (4, "priority"),
        (4, "extra"),
    }
    assert _count(owner) == 0
    # The real import of the same rows is all or nothing.
    r = owner.post("/api/v1/content/import", json={"rows": rows})
    assert r.status_code == 422
    assert len(r.json()["errors"]) == 5
    assert _count(owner) == 0


def test_csv_rows_import_as_drafts_and_export_again(owner: Actor, outsider: Actor) -> None:
    persona_id = _persona(owner)
    _persona(outsider, "Dana")
    text = (
        "persona,text,platforms,tags,priority\n"
        'Dana,"Hello, world",x bluesky,launch,5\n'
        f'{persona_id},Second post,"linkedin, x",,\n'
    )
    r = owner.post("/api/v1/content/import", json={"csv": text})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2
    posts = owner.get("/api/v1/content").json()["items"]
    assert {p["body"] for p in posts} == {"Hello, world", "Second post"}
    assert all(p["status"] == "draft" and p["persona_id"] == persona_id for p in posts)
    assert outsider.get("/api/v1/content").json()["total"] == 0

    exported = owner.get("/api/v1/content/export", params={"format": "csv", "platform": "bluesky"})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(x["persona"], x["text"], x["platforms"], x["priority"]) for x in rows] == [
        ("Dana", "Hello, world", "x bluesky", "5")
    ]
    as_json = owner.get("/api/v1/content/export", params={"format": "json"}).json()
    assert len(as_json) == 2
    # What is exported imports again, in another workspace with a persona of that name.
    again = outsider.post(
        "/api/v1/content/import",
        json={"rows": [{k: r[k] for k in ("persona", "text", "platforms")} for r in as_json]},
    )
    assert again.status_code == 200 and again.json()["created"] == 2


def test_a_drafts_token_imports_drafts_that_cannot_publish(owner: Actor) -> None:
    _persona(owner)
    token = owner.post("/api/v1/tokens", json={"name": "agent", "scopes": ["drafts"]}).json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    r = owner.client.post(
        "/api/v1/content/import",
        json={"rows": [{"persona": "Dana", "text": "Agent text", "platforms": ["x"]}]},
        headers=bearer,
    )
    assert r.status_code == 200, r.text
    post_id = r.json()["post_ids"][0]
    assert (
        owner.client.post(f"/api/v1/content/{post_id}/approve", headers=bearer).status_code == 403
    )
    assert (
        owner.client.post(f"/api/v1/content/{post_id}/schedule", headers=bearer).status_code == 403
    )
    assert owner.get(f"/api/v1/content/{post_id}").json()["status"] == "draft"


def test_more_than_ten_thousand_rows_are_refused_before_any_work(owner: Actor) -> None:
    row = {"persona": "Dana", "text": "x", "platforms": ["x"]}
    r = owner.post("/api/v1/content/import?dry_run=true", json={"rows": [row] * 10_001})
    assert r.status_code == 422 and "rows" in r.text
    assert _count(owner) == 0


def test_per_platform_texts_become_hand_written_variants(owner: Actor) -> None:
    _persona(owner)
    text = (
        "persona,text,platforms,text_x\n"
        "Dana,The long version for everyone,x linkedin,Short for X\n"
        "Dana,,x,Only X text\n"
    )
    r = owner.post("/api/v1/content/import", json={"csv": text})
    assert r.status_code == 200, r.text
    first, second = r.json()["post_ids"]
    got = owner.get(f"/api/v1/content/{first}").json()
    variants = {v["platform"]: v for v in got["variants"]}
    assert variants["x"]["parts"] == ["Short for X"] and variants["x"]["custom"]
    assert variants["linkedin"]["parts"] == ["The long version for everyone"]
    assert not variants["linkedin"]["custom"]
    # Without a text, the body is the row's only platform text.
    assert owner.get(f"/api/v1/content/{second}").json()["body"] == "Only X text"
    # A JSON row gives them as an object; every problem names its row and field.
    rows: list[dict[str, Any]] = [
        {"persona": "Dana", "platforms": ["x", "bluesky"], "variants": {"x": "only x"}},
        {"persona": "Dana", "text": "t", "platforms": ["x"], "variants": {"linkedin": "li"}},
        {"persona": "Dana", "text": "t", "platforms": ["x"], "variants": {"x": " "}},
        {"persona": "Dana", "text": "t", "platforms": ["x"], "variants": {"myspace": "m"}},
    ]
    r = owner.post("/api/v1/content/import?dry_run=true", json={"rows": rows})
    problems = {(p["row"], p["field"]): p["message"] for p in r.json()["problems"]}
    assert set(problems) == {
        (1, "text"),
        (2, "row"),
        (3, "variants"),
        (4, "variants.myspace.[key]"),
    }
    assert "missing: bluesky" in problems[(1, "text")]
    assert "linkedin" in problems[(2, "row")]
    assert "empty" in problems[(3, "variants")]


def test_an_import_larger_than_a_write_batch_creates_every_row_once(owner: Actor) -> None:
    from digipersona.posts import bulk

    _persona(owner)
    n = bulk.WRITE_BATCH + 7
    rows = [
        {"persona": "Dana", "text": f"Post {i}", "platforms": ["x", "bluesky"]} for i in range(n)
    ]
    r = owner.post("/api/v1/content/import", json={"rows": rows})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == n and len(set(r.json()["post_ids"])) == n
    assert _count(owner) == n
    post_id = r.json()["post_ids"][-1]
    got = owner.get(f"/api/v1/content/{post_id}").json()
    assert got["body"] == f"Post {n - 1}" and got["status"] == "draft"
    assert sorted(v["platform"] for v in got["variants"]) == ["bluesky", "x"]
    assert all(v["valid"] for v in got["variants"])
    history = owner.get(f"/api/v1/content/{post_id}/history").json()
    assert [e["action"] for e in history] == ["post.created"]
