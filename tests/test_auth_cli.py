"""``recsvc keys create|list|revoke`` and the ``serve --demo`` banner."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recsvc.auth import list_keys, verify_key
from recsvc.cli import app
from recsvc.cli.serve import _demo_banner
from recsvc.errors import Unauthorized
from tests.fixtures_api import ApiEnv

SECRET = re.compile(r"\b(rc[kp]_[A-Za-z0-9_-]{40,})")



def test_keys_create_list_revoke(cli_env: ApiEnv) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["keys", "create", "carol", "--role", "librarian"])
    assert made.exit_code == 0, made.output
    secret = SECRET.search(made.output).group(1)  # type: ignore[union-attr]
    assert verify_key(cli_env.runtime.db, secret).name == "carol"
    portal = runner.invoke(app, ["keys", "create", "pc", "--role", "portal", "--client", "CA-001"])
    assert portal.exit_code == 0 and "rcp_" in portal.output
    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0 and "carol" in listed.output and "CA-001" in listed.output
    assert secret not in listed.output
    assert runner.invoke(app, ["keys", "revoke", "carol"]).exit_code == 0
    with pytest.raises(Unauthorized):
        verify_key(cli_env.runtime.db, secret)


def test_keys_create_errors_exit_with_the_error_code(cli_env: ApiEnv) -> None:
    env = {
        "RECSVC_DATABASE_URL": cli_env.settings.database_url,
        "RECSVC_DATA_DIR": str(cli_env.settings.data_dir),
        "RECSVC_MODELS_DIR": str(cli_env.settings.models_dir),
    }
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from recsvc.cli import main; main()",
            "keys",
            "create",
            "x",
            "--role",
            "portal",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert run.returncode == 2 and "bound to a client" in run.stderr


def test_demo_banner_creates_keys_once(api_env: ApiEnv, capsys: pytest.CaptureFixture[str]) -> None:
    _demo_banner(api_env.runtime, "127.0.0.1", 8000, rotate=False)
    out = capsys.readouterr().out
    secrets = SECRET.findall(out)
    assert len(set(secrets)) == 4
    assert "http://127.0.0.1:8000/docs" in out and "http://127.0.0.1:8000/console/" in out
    assert "/api/v1/worklist" in out and "/api/v1/me/recommendations" in out
    assert "recommendations" in out and "401" in out
    roles = {k.name: k.role.value for k in list_keys(api_env.runtime.db)}
    assert {roles[n] for n in ("demo-librarian", "demo-analyst", "demo-admin", "demo-portal")} == {
        "librarian",
        "analyst",
        "admin",
        "portal",
    }
    lib = next(s for s in secrets if out.count(s) >= 2)  # printed, and used in curl lines
    assert (
        api_env.get("/api/v1/clients", None, headers={"Authorization": f"Bearer {lib}"}).status_code
        == 200
    )
    _demo_banner(api_env.runtime, "127.0.0.1", 8000, rotate=False)
    again = capsys.readouterr().out
    assert not SECRET.findall(again) and "--rotate-demo-keys" in again
    _demo_banner(api_env.runtime, "127.0.0.1", 8000, rotate=True)
    assert len(set(SECRET.findall(capsys.readouterr().out))) == 4


def test_serving_never_imports_training(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from api.app import create_app\n"
        "from recsvc.config import Settings\n"
        f"create_app(Settings(environment='test', data_dir={str(tmp_path)!r}, "
        f"database_url='sqlite:///{tmp_path}/x.db', models_dir={str(tmp_path)!r}))\n"
        "bad = sorted(m for m in sys.modules if m == 'training' or m.startswith('training.'))\n"
        "assert not bad, bad\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
