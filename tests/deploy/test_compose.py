"""deploy/compose*.yaml are valid Compose files (the Compose specification's JSON schema, as
shipped inside check-jsonschema) and hang together: every secret, volume and dependency they
name is declared, secrets reach digipersona only through ``*_FILE`` settings it reads, and each
digipersona service runs a real command of the image."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from digipersona.cli.main import COMMANDS
from digipersona.config import ENV_PREFIX, SECRET_FIELDS

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / "deploy" / "compose.yaml", ROOT / "deploy" / "compose.scale-out.yaml"]
SECRET_WORDS = ("SECRET", "PASSWORD", "ENCRYPTION_KEYS", "DATABASE_URL", "TOKEN", "API_KEY")


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())  # resolves the <<: merge keys
    return data


def test_compose_files_match_the_compose_specification() -> None:
    check = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(check), "--builtin-schema", "vendor.compose-spec", *map(str, FILES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  web:\n    image: x\n    restart: sometimes\n    portz: [1]\n")
    check = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(check), "--builtin-schema", "vendor.compose-spec", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_names_resolve_and_secrets_come_from_files(path: Path) -> None:
    compose = load(path)
    services = compose["services"]
    volumes = set(compose.get("volumes") or {})
    secrets = set(compose.get("secrets") or {})
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in volumes, (name, source)
        assert set(service.get("secrets", [])) <= secrets, name
        assert set(service.get("depends_on", {})) <= set(services) - {name}, name
        environment = service.get("environment", {})
        for variable, value in environment.items():
            if variable.endswith(("_FILE", "__FILE")):
                secret = str(value).removeprefix("/run/secrets/")
                assert str(value).startswith("/run/secrets/") and secret in service["secrets"]
                if variable.startswith(ENV_PREFIX):
                    field = variable.removeprefix(ENV_PREFIX).removesuffix("_FILE").lower()
                    assert field in SECRET_FIELDS, f"digipersona does not read {variable}"
            else:
                assert not any(w in variable for w in SECRET_WORDS), (name, variable)
        if service.get("image", "").startswith("digipersona"):
            command = service.get("command", ["serve"])
            if service.get("entrypoint", ["digipersona"])[:2] == ["/bin/sh", "-c"]:
                command = command[0].rsplit("exec digipersona ", 1)[1].split()
            assert command[0] in COMMANDS, (name, command)


def test_scale_out_topology() -> None:
    compose = load(FILES[1])
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "scheduler", "worker"} <= set(services)
    assert {"prometheus", "grafana"} <= set(services)
    assert services["migrate"]["command"][0].endswith("exec digipersona db upgrade")
    assert services["migrate"]["restart"] == "no"
    for role in ("web", "scheduler", "worker"):
        after = services[role]["depends_on"]
        assert after["migrate"]["condition"] == "service_completed_successfully", role
        env = services[role]["environment"]
        assert env["DIGIPERSONA_ENV"] == "production"
        assert env["DIGIPERSONA_BROKER_URL"].startswith("redis://redis:")
        # One metrics directory for every process: the web's scrape sums them all.
        assert env["PROMETHEUS_MULTIPROC_DIR"] == "/run/digipersona-metrics", role
        assert "metrics:/run/digipersona-metrics" in services[role]["volumes"], role
    assert services["worker"]["deploy"]["replicas"] >= 2
    scrape = load(ROOT / "deploy" / "prometheus" / "prometheus.yml")["scrape_configs"]
    assert [(job["job_name"], job["static_configs"][0]["targets"]) for job in scrape] == [
        ("digipersona", ["web:8000"])
    ]
    # Only loopback ports are published; the proxy on the host is the way in.
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
