"""Browser tests drive Debian's Chromium through Playwright; screenshots land in artifacts/."""

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason="Debian's chromium is not installed")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole run; each test gets a fresh context (its own cookies, storage
    and cache), as if it had started a browser of its own."""
    playwright = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Every browser test also checks the Content-Security-Policy: a refused script or
    # style shows as a console error. A test that provokes one on purpose empties the list.
    page.csp_errors = []
    page.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text
            and page.csp_errors.append(f"{m.text} at {m.location}"))
    yield page
    context.close()
    assert not page.csp_errors, f"Content-Security-Policy violations: {page.csp_errors}"


@pytest.fixture
def shot():
    def take(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take



@pytest.fixture
def log_in(live_server):
    """Fill in the login form already open on `page` and wait for the home page."""
    from factories import PASSWORD

    def enter(page, username: str) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        try:
            # A loaded machine running both databases' suites side by side can take a while
            # to answer the first request of a fresh live server.
            page.wait_for_url(f"{live_server.url}/", timeout=45_000)
        except PlaywrightTimeout:
            text = page.inner_text("body") if page.url.startswith(live_server.url) else ""
            pytest.fail(f"logging in as {username} did not reach the home page: still at {page.url}\n{text[:600]}")

    return enter
