from __future__ import annotations

from typing import Any

from sqlalchemy import text


def test_healthz(client: Any) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.headers["x-request-id"]


def test_readyz_ok_then_503_when_migrations_behind(client: Any, app: Any) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "migrations": "ok"}
    with app.state.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    r = client.get("/readyz")
    assert r.status_code == 503
    assert "digipersona db upgrade" in r.json()["checks"]["migrations"]


def test_metrics_prometheus_text(client: Any) -> None:
    client.get("/healthz")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert 'digipersona_http_requests_total{method="GET",route="/healthz",status="200"}' in r.text


def test_request_id_is_propagated(client: Any) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"


def test_openapi_and_unknown_route_problem(client: Any) -> None:
    assert client.get("/openapi.json").json()["info"]["title"] == "digipersona"
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "/api/v1/nothing-here" in r.json()["detail"]
    r = client.put("/api/v1/personas")
    assert r.status_code == 405
