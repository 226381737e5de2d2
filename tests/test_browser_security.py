"""In a real browser: nothing on our pages or in the admin breaks the Content Security Policy."""

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tracker.models import Recommendation
from tracker.tests.helpers import make_user
from tracker.tests.test_browser_home import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("roles", "seed")]


@pytest.fixture
def violations(page: Page) -> list[str]:
    """What the browser refused under the policy, and any script error, on this page."""
    found: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith("Refused to"):
            found.append(f"{page.url}: {text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.append(f"{page.url}: {error}"))
    # The event fires for every violation, reported on the console or not.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    return found


def test_the_admin_works_under_the_policy(live_server, page: Page, violations):
    make_user("root", is_superuser=True, is_staff=True)
    log_in(page, live_server, "root")
    recommendation = Recommendation.objects.order_by("number").first()

    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("link", name="Recommendations").first).to_be_visible()

    page.goto(f"{live_server.url}/admin/tracker/recommendation/")
    # The change list's script runs: ticking a row counts it.
    page.locator("input.action-select").first.check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 6 selected")

    page.goto(f"{live_server.url}/admin/tracker/recommendation/{recommendation.pk}/change/")
    expect(page.get_by_role("heading", level=2).first).to_be_visible()
    # filter_horizontal and autocomplete widgets are built by script.
    expect(page.locator(".selector-available").first).to_be_visible()
    expect(page.locator(".select2-container").first).to_be_visible()
    page.locator(".select2-container").first.click()
    expect(page.locator(".select2-results")).to_be_visible()
    page.keyboard.press("Escape")

    page.goto(f"{live_server.url}/admin/tracker/recommendation/add/")
    expect(page.locator("#recommendation_form")).to_be_visible()
    page.goto(f"{live_server.url}/admin/auth/user/")
    expect(page.locator("#result_list")).to_be_visible()

    assert violations == []


def test_our_pages_and_htmx_work_under_the_policy(live_server, page: Page, violations):
    make_user("ana", role="Analyst", first_name="Ana", last_name="Lyst")
    log_in(page, live_server, "ana")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()

    page.get_by_role("link", name="Recommendations", exact=True).click()
    page.get_by_label("Theme").select_option(label="China")
    expect(page.locator(".rec-table tbody tr")).to_have_count(1)  # swapped in by htmx
    expect(page).to_have_url(re.compile(r"theme=china"))

    page.get_by_role("link", name=re.compile("Address China")).click()
    page.get_by_label("Add a note").fill("Checked under the policy.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline")).to_contain_text("Checked under the policy.")

    page.goto(f"{live_server.url}/dialogues/")
    page.goto(f"{live_server.url}/people/")
    page.goto(f"{live_server.url}/no-such-page/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()

    assert violations == []


def test_the_lockout_page_under_the_policy(live_server, page: Page, violations, settings):
    settings.AXES_FAILURE_LIMIT = 2
    make_user("lee")
    page.goto(f"{live_server.url}/accounts/login/")
    for _ in range(2):
        page.get_by_label("Username").fill("lee")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("paused for 15 minutes")
    expect(page.get_by_role("heading", name="Too many failed logins")).to_be_visible()
    assert violations == []
