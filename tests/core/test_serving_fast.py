"""`kam serve` as a browser meets it: static files under hashed names cached for a year and sent
compressed, pages gzipped, and gunicorn sized from the machine's cores."""

from __future__ import annotations

import re

import pytest
import requests

from kam.cli import MAX_SERVE_WORKERS, SERVE_THREADS, serve_sizes
from serving import KamServer


def test_workers_follow_the_cores_and_settings_override():
    assert serve_sizes(1) == (2, SERVE_THREADS)  # never a single process
    assert serve_sizes(2) == (2, SERVE_THREADS)
    assert serve_sizes(6) == (6, SERVE_THREADS)
    assert serve_sizes(64) == (MAX_SERVE_WORKERS, SERVE_THREADS)
    assert serve_sizes(2, workers="3", threads="1") == (3, 1)
    with pytest.raises(SystemExit):
        serve_sizes(2, threads="0")


@pytest.fixture(scope="module")
def served():
    server = KamServer(workers=2, env={"KAM_STATIC": "collected", "KAM_WORKER_PROCESSES": "0"})
    try:
        server.migrate()
        server.start("--no-worker", timeout=180)
        yield server
    finally:
        server.close()


def test_static_files_are_hashed_cached_for_a_year_and_compressed(served):
    login = requests.get(f"{served.url}/login/", timeout=10)
    script = re.search(r'src="(/static/kam/kam\.[0-9a-f]{12}\.js)"', login.text)
    assert script, "the page names the hashed file"
    for encoding in ("br", "gzip"):
        answer = requests.get(served.url + script.group(1), headers={"Accept-Encoding": encoding}, timeout=10)
        assert answer.status_code == 200
        assert answer.headers["Content-Encoding"] == encoding
        cache = answer.headers["Cache-Control"]
        assert "immutable" in cache and int(re.search(r"max-age=(\d+)", cache).group(1)) >= 365 * 86400


def test_pages_are_gzipped_when_the_browser_takes_it(served):
    plain = requests.get(f"{served.url}/login/", headers={"Accept-Encoding": "identity"}, timeout=10)
    packed = requests.get(f"{served.url}/login/", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.text.count("<form") == plain.text.count("<form") >= 1  # the same page, decoded
    assert "--threads" in " ".join(served.processes().values())
