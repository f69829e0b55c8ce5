"""Production refuses weak secret keys; ``recsvc keys secret`` prints a strong one."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from recsvc.cli import _common as common
from recsvc.cli import app
from recsvc.config import DEV_SECRET_KEY, Settings, secret_key_problem
from recsvc.errors import InvalidInput

WEAK = {
    "empty": "",
    "blank": "   ",
    "one-letter": "x",
    "changeme": "changeme",
    "secret": "secret",
    "dev-default": DEV_SECRET_KEY,
    "dev-prefixed": "dev-insecure-" + secrets.token_urlsafe(32),
    "placeholder-long": "please-changeme-" + secrets.token_urlsafe(24),
    "short-random": secrets.token_urlsafe(16),
    "hex-16-bytes": secrets.token_hex(16),
    "one-char-repeated": "a" * 64,
    "few-distinct": "abcd" * 16,
}


@pytest.mark.parametrize("secret", WEAK.values(), ids=WEAK.keys())
def test_production_refuses_weak_secret(secret: str) -> None:
    assert secret_key_problem(secret) is not None
    with pytest.raises(ValidationError, match="RECSVC_SECRET_KEY"):
        Settings(environment="production", database_url="sqlite://", secret_key=secret)


@pytest.mark.parametrize("environment", ["development", "test"])
def test_other_environments_accept_the_dev_secret(environment: str) -> None:
    s = Settings(environment=environment, database_url="sqlite://")  # type: ignore[arg-type]
    assert s.secret_key == DEV_SECRET_KEY


def test_production_accepts_32_random_bytes() -> None:
    for secret in (secrets.token_urlsafe(32), secrets.token_hex(32), secrets.token_urlsafe(48)):
        s = Settings(environment="production", database_url="sqlite://", secret_key=secret)
        assert s.secret_key == secret


def test_keys_secret_prints_a_fresh_accepted_secret() -> None:
    runner = CliRunner()
    outputs = [runner.invoke(app, ["keys", "secret"]) for _ in range(2)]
    values = [r.output.strip() for r in outputs]
    assert all(r.exit_code == 0 for r in outputs)
    assert values[0] != values[1] and len(values[0]) >= 43
    assert secret_key_problem(values[0]) is None


def test_cli_startup_names_the_weak_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """``recsvc serve`` (any command reading settings) stops with a clear reason, not a
    traceback, and exits non-zero before binding a port."""
    common.settings.cache_clear()
    monkeypatch.setenv("RECSVC_ENVIRONMENT", "production")
    monkeypatch.setenv("RECSVC_SECRET_KEY", "changeme")
    monkeypatch.setenv("RECSVC_DATABASE_URL", "sqlite://")
    try:
        with pytest.raises(InvalidInput) as err:
            common.settings()
        assert "refusing to start" in str(err.value) and "recsvc keys secret" in str(err.value)
        result = CliRunner().invoke(app, ["serve"])
        assert result.exit_code != 0
        assert "known default" in str(result.exception) or "known default" in result.output
    finally:
        common.settings.cache_clear()
