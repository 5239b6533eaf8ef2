"""Check 1: `kam manage check --deploy --fail-level WARNING` with production settings → 0 issues.

Production settings are what README's deployment section lists: a secret key from the
environment, KAM_HTTPS=1, DEBUG off, the site's host names. The check runs as its own process,
so the settings module is read exactly as a server reads it (not the test settings)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path


def deploy_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KAM_", "DJANGO_"))}
    base.update({"KAM_HOME": str(tmp_path), **env})
    return subprocess.run([sys.executable, "-m", "kam.cli", "manage", "check", "--deploy", "--fail-level", "WARNING"],
                          env=base, capture_output=True, text=True, timeout=120)


PRODUCTION = {
    "KAM_SECRET_KEY": secrets.token_urlsafe(64),
    "KAM_HTTPS": "1",
    "KAM_DEBUG": "0",
    "KAM_ALLOWED_HOSTS": "kam.example.com",
    "KAM_CSRF_TRUSTED_ORIGINS": "https://kam.example.com",
}


def test_production_settings_pass_the_deploy_check(tmp_path):
    # given the environment of a production deployment
    # when Django's deployment check runs, warnings counting as failures
    result = deploy_check(tmp_path, **PRODUCTION)
    # then it finds nothing
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr


def test_the_deploy_check_notices_a_deployment_without_https(tmp_path):
    # the same environment without KAM_HTTPS: the check is live, not silenced
    result = deploy_check(tmp_path, **{**PRODUCTION, "KAM_HTTPS": "0"})
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output, output
