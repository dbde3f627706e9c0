"""A persona's colour: "#rrggbb", stored lower case; blank is none; anything else is a 422."""

from __future__ import annotations

from tests.conftest import Actor


def test_colour_is_checked_and_kept(owner: Actor) -> None:
    made = owner.post("/api/v1/personas", json={"name": "Ada", "colour": "#7C3AED"})
    assert made.status_code == 201, made.text
    assert made.json()["colour"] == "#7c3aed"
    pid = made.json()["id"]
    for bad in ("purple", "#7c3", "#7c3aedff", "7c3aed", "#gggggg"):
        r = owner.patch(f"/api/v1/personas/{pid}", json={"colour": bad})
        assert r.status_code == 422, (bad, r.text)
    assert owner.get(f"/api/v1/personas/{pid}").json()["colour"] == "#7c3aed"
    cleared = owner.patch(f"/api/v1/personas/{pid}", json={"colour": " "})
    assert cleared.status_code == 200 and cleared.json()["colour"] is None
    plain = owner.post("/api/v1/personas", json={"name": "Bo"})
    assert plain.json()["colour"] is None
