"""Playwright driving Debian's chromium (/usr/bin/chromium, installed by .ci/run) against live_server.

Playwright's sync API keeps an event loop running in the test thread, which Django's ORM guard
mistakes for async code; the tests call the ORM between browser steps, never concurrently with it,
so the guard is lifted while the browser runs (module scope) and restored after.
"""

import os
import tempfile
from pathlib import Path

import pytest


CHROMIUM = Path("/usr/bin/chromium")
DESKTOP = {"width": 1400, "height": 860}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
# The README's pictures are refreshed on request (SCREENSHOTS=docs), so an ordinary test run leaves
# the work tree clean; otherwise they go to a scratch folder and still prove the page renders.
SCREENSHOTS = (
    Path(__file__).resolve().parents[3] / "docs" / "img"
    if os.environ.get("SCREENSHOTS") == "docs"
    else Path(tempfile.gettempdir()) / "scheduling-screenshots"
)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Only while Playwright's loop runs, so the other tests of this worker keep Django's guard.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _cookies_without_expiry_dates(settings):
    """The server runs at the tests' fixed instants, chromium at today's date: a cookie that expires
    two weeks (the session) or a year (CSRF) after a fixed instant would already be stale to the
    browser. Cookies that last until the browser closes are the same whatever the date."""
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None


@pytest.fixture
def roles_synced(transactional_db):
    """live_server tests flush the database, data-migration groups included: put the roles back."""
    from scheduling.roles import sync_roles

    sync_roles()


@pytest.fixture
def open_as(browser, live_server, roles_synced):
    """open_as(user) → a page signed in as `user` (through a session cookie), at 1400×860 or `viewport`."""
    from django.test import Client

    contexts = []

    def opener(user, viewport=DESKTOP):
        client = Client()
        client.force_login(user)
        context = browser.new_context(viewport=viewport, base_url=live_server.url, has_touch=viewport == PHONE)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield opener
    for context in contexts:
        context.close()


def screenshot(page, name: str, **kwargs) -> None:
    """Write <name>.png: docs/img with SCREENSHOTS=docs (shown in the README), else a scratch folder."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), **kwargs)


def pick_customer(page, name: str) -> None:
    """Choose a customer in the booking form's search field (the admin's select2 autocomplete)."""
    page.click("#id_customer + .select2 .select2-selection")
    page.fill(".select2-search__field", name)
    page.click(f".select2-results__option:has-text('{name}')")
