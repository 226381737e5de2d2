"""A failed htmx request says so in the page (the 503 of an outage, a 403, no network)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tracker.models import Note, Recommendation
from tracker.tests.helpers import make_user
from tracker.tests.test_browser_home import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("roles", "seed")]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (503, "briefly unavailable, and this may not have been saved"),
        (500, "may not have been saved"),
        (403, "You are not allowed to do this"),
        (None, "could not be reached"),
    ],
)
def test_a_failed_htmx_action_tells_the_user(live_server, page: Page, artifacts, status, message):
    make_user("ana", role="Analyst")
    log_in(page, live_server, "ana")
    recommendation = Recommendation.objects.get(number=1)
    page.goto(f"{live_server.url}/recommendations/{recommendation.pk}/")

    def fail(route):
        if status is None:
            route.abort("connectionrefused")
        else:
            route.fulfill(status=status, body="<h1>Unavailable</h1>", content_type="text/html")

    page.route(re.compile(r".*/notes?$"), fail)
    page.get_by_label("Add a note").fill("Written during an outage.")
    page.get_by_role("button", name="Add note").click()
    alert = page.locator("#request-error")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(message)
    expect(alert).to_be_focused()
    expect(page.get_by_label("Add a note")).to_have_value("Written during an outage.")
    assert not Note.objects.exists()
    if status == 503:
        page.screenshot(path=artifacts / "detail-outage-message.png")
    alert.get_by_role("button", name="Dismiss").click()
    expect(alert).to_be_hidden()


def test_an_htmx_action_after_the_session_ended_says_so_and_keeps_the_text(
    live_server, page: Page, artifacts
):
    make_user("ana", role="Analyst")
    log_in(page, live_server, "ana")
    recommendation = Recommendation.objects.get(number=1)
    page.goto(f"{live_server.url}/recommendations/{recommendation.pk}/")
    page.context.clear_cookies(name="sessionid")  # the session ends (idle limit, elsewhere)
    page.get_by_label("Add a note").fill("A long note I must not lose.")
    page.get_by_role("button", name="Add note").click()
    alert = page.locator("#request-error")
    expect(alert).to_contain_text("Your session has ended")
    expect(page.get_by_label("Add a note")).to_have_value("A long note I must not lose.")
    expect(page.locator("#login-form, form[action*='login']")).to_have_count(0)
    assert not Note.objects.exists()
    page.screenshot(path=artifacts / "detail-session-ended.png")
