"""`digipersona serve --port N` without DIGIPERSONA_BASE_URL: every link it makes uses port N,
and its log says each thing once (one line per request, no Alembic plugin chatter)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.cli.test_serve_shutdown import _free_port, _up, wait_for
from tests.conftest import PASSWORD


def _serve(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DIGIPERSONA_") or k == "DIGIPERSONA_REQUIRE_PEERS"
    }
    env.update(
        DIGIPERSONA_DATA_DIR=str(tmp_path / "data"),
        DIGIPERSONA_LINKEDIN_CLIENT_ID="linkedin-app",
        DIGIPERSONA_LINKEDIN_CLIENT_SECRET="linkedin-app-secret",
        DIGIPERSONA_X_CLIENT_ID="x-app",
        DIGIPERSONA_SHUTDOWN_GRACE_SECONDS="1",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "digipersona", "serve", "--port", str(port)],
        cwd=tmp_path,  # no settings file there
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _owner(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    email = "links@example.com"
    registered = client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "workspace_name": "Links"},
    )
    assert registered.status_code == 201, registered.text
    login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    return client


def _links(client: httpx.Client) -> dict[str, str]:
    persona = client.post(
        "/api/v1/personas", json={"name": "Dana", "timezone": "Europe/Berlin"}
    ).json()
    links = {
        "ical": client.post("/api/v1/calendar/feed").json()["url"],
        "invitation": client.post(
            "/api/v1/workspace/invitations", json={"email": "new@example.com", "role": "editor"}
        ).json()["accept_url"],
    }
    for platform in ("linkedin", "x"):
        answer: Any = client.post(
            f"/api/v1/integrations/{platform}/connect", json={"persona_id": persona["id"]}
        ).json()
        query = parse_qs(urlsplit(answer["authorization_url"]).query)
        links[platform] = query["redirect_uri"][0]
    return links


def test_links_use_the_port_serve_listens_on_and_each_request_is_logged_once(
    tmp_path: Path,
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(tmp_path, port)
    try:
        assert wait_for(lambda: _up(url) or server.poll() is not None, 60), "serve never started"
        assert server.poll() is None
        client = _owner(url)
        try:
            links = _links(client)
        finally:
            client.close()
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode()
    for name, link in links.items():
        assert link.startswith(f"{url}/"), (name, link)
    assert links["ical"].endswith(".ics") and "/register?invitation=" in links["invitation"]
    assert links["linkedin"] == f"{url}/api/v1/integrations/linkedin/callback"
    assert f"links point at {url}" in output
    assert "alembic.runtime.plugins" not in output and "Context impl" not in output
    login_lines = [line for line in output.splitlines() if "/api/v1/auth/login" in line]
    assert len(login_lines) == 1, login_lines
    assert "digipersona.http" in login_lines[0] and "127.0.0.1:" in login_lines[0]
