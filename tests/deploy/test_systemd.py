"""The systemd units of deploy/systemd pass ``systemd-analyze verify`` and stay hardened."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/digipersona/bin/digipersona"
# systemd's exposure score (0 safe .. 10 exposed, scaled by 10 for --threshold); the units
# score 1.4 ("OK") today.
MAX_EXPOSURE = 20
HARDENING = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ReadWritePaths=/var/lib/digipersona",
    "User=digipersona",
    "PrivateTmp=yes",
    "CapabilityBoundingSet=",
)

pytestmark = pytest.mark.tool


@pytest.fixture
def units(tmp_path: Path) -> list[Path]:
    """Copies of the units running this checkout's ``digipersona`` (verify checks that every
    ExecStart program exists)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: systemd; scripts/peers)")
    program = Path(sys.executable).with_name("digipersona")
    assert program.exists()
    copies = []
    for unit in sorted(UNITS.glob("*.service")) + sorted(UNITS.glob("*.target")):
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(INSTALLED, str(program)))
        copies.append(copy)
    return copies


def test_units_pass_systemd_analyze_verify(units: list[Path]) -> None:
    assert {u.name for u in units} >= {
        "digipersona.service",
        "digipersona-web.service",
        "digipersona-worker@.service",
        "digipersona-scheduler.service",
        "digipersona-migrate.service",
    }
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        check=False,
    )
    # verify prints unknown or misspelt settings as warnings and still exits 0: none allowed.
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_services_are_hardened(units: list[Path]) -> None:
    for unit in (u for u in units if u.suffix == ".service"):
        text = unit.read_text()
        for option in HARDENING:
            assert f"\n{option}\n" in text, (unit.name, option)
        result = subprocess.run(
            [
                "systemd-analyze",
                "security",
                "--offline=true",
                f"--threshold={MAX_EXPOSURE}",
                str(unit),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (unit.name, result.stdout[-2000:])


def test_scale_out_units_read_secrets_from_credentials() -> None:
    for name in ("web", "scheduler", "worker@", "migrate"):
        text = (UNITS / f"digipersona-{name}.service").read_text()
        for secret in ("database_url", "secret_key", "encryption_keys"):
            assert f"LoadCredential={secret}:" in text
            assert f"DIGIPERSONA_{secret.upper()}_FILE=%d/{secret}" in text
