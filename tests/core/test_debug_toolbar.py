"""The development profiler: django-debug-toolbar on every page with KAM_DEBUG=1 and
KAM_DEBUG_TOOLBAR=1, and never without DEBUG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PAGE = """
import django
django.setup()
from django.conf import settings
from django.test import Client
page = Client().get("/login/", HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
print(page.status_code, "debug_toolbar" in settings.INSTALLED_APPS, 'id="djDebug"' in page.content.decode())
"""


def _login_page(tmp_path, **flags: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAM_")}
    env.update(KAM_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="kam.settings", PYTHONPATH=str(SRC), **flags)
    done = subprocess.run([sys.executable, "-c", PAGE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_toolbar_shows_on_a_page_in_development_only(tmp_path):
    assert _login_page(tmp_path, KAM_DEBUG="1", KAM_DEBUG_TOOLBAR="1") == "200 True True"
    assert _login_page(tmp_path, KAM_DEBUG_TOOLBAR="1") == "200 False False"  # DEBUG off: never
    assert _login_page(tmp_path, KAM_DEBUG="1") == "200 False False"
