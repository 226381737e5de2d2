"""In a real browser: log in, see the seed dialogue; keyboard and phone work too."""

import pytest
from playwright.sync_api import Page, expect

from tracker.tests.helpers import make_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("roles")]


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"pw-{username}")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/")


def test_an_analyst_logs_in_and_sees_the_seed_dialogue(seed, live_server, page: Page, artifacts):
    make_user("ana", role="Analyst", first_name="Ana", last_name="Lyst")
    log_in(page, live_server, "ana")

    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.locator(".figure").first).to_contain_text("6")
    expect(page.get_by_role("link", name="6 Not started")).to_be_visible()
    expect(page.get_by_text("US-ROK Strategic Dialogue, 2020")).to_be_visible()
    badge = page.locator(".bar-table .badge").first
    expect(badge).to_have_text("Not started")
    # The colour comes from the status stylesheet, not from an inline style.
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(75, 85, 99)"
    page.screenshot(path=artifacts / "dashboard-desktop.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=artifacts / "dashboard-phone.png", full_page=False)


def test_logging_in_and_out_works_by_keyboard(seed, live_server, page: Page):
    make_user("kim", role="Viewer")
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("kim")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("pw-kim")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid", "focus must be visible"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.get_by_role("button", name="Log out").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")


def test_a_wrong_password_gets_a_clear_message(seed, live_server, page: Page):
    make_user("lee")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("lee")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Please enter a correct username and password"
    )
