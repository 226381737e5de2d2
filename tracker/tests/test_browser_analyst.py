"""The analyst's workflow in a real browser: filter, change status, add a note, conflicts."""

import re

import pytest
from playwright.sync_api import Page, expect

from tracker import services
from tracker.models import Recommendation, Status
from tracker.tests.helpers import make_user
from tracker.tests.test_browser_home import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("roles", "seed")]


def mark_page(page: Page) -> None:
    """Leave a mark in the window: a full page load would wipe it."""
    page.evaluate("window.__stillTheSamePage = true")


def assert_no_reload(page: Page) -> None:
    assert page.evaluate("window.__stillTheSamePage === true"), "the page reloaded"


def test_an_analyst_filters_changes_a_status_and_adds_a_note(live_server, page: Page, artifacts):
    make_user("ana", role="Analyst", first_name="Ana", last_name="Lyst")
    log_in(page, live_server, "ana")

    page.get_by_role("link", name="Recommendations", exact=True).click()
    expect(page.locator(".rec-table tbody tr")).to_have_count(6)
    mark_page(page)
    page.get_by_label("Theme").select_option(label="China")
    expect(page.locator(".rec-table tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"theme=china"))
    assert_no_reload(page)
    page.get_by_label("Search").fill("nothing-matches-this")
    expect(page.get_by_text("No recommendations match these filters.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=nothing-matches-this"))
    page.get_by_label("Search").fill("")
    expect(page.locator(".rec-table tbody tr")).to_have_count(1)
    page.screenshot(path=artifacts / "list-filtered.png", full_page=True)

    page.get_by_role("link", name=re.compile("Address China")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Address China")
    mark_page(page)

    status_form = page.locator("#status-form")
    status_form.get_by_label(re.compile("Under consideration")).check()
    status_form.get_by_label(re.compile("Rationale")).fill("Seoul and Washington opened talks.")
    status_form.get_by_role("button", name="Change status").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Seoul and Washington opened talks.")
    expect(page.locator("#summary")).to_contain_text("Under consideration")
    expect(status_form.get_by_role("status")).to_have_text("Status changed.")

    page.get_by_label("Add a note").fill("Follow up after the summit.")
    page.get_by_role("button", name="Add note").click()
    expect(timeline.locator(".timeline__item").first).to_contain_text("Follow up after the summit.")

    # Another action straight after: the forms moved to the new version together.
    page.locator("#owner-form").get_by_label("Owner").select_option(label="Ana Lyst")
    page.locator("#owner-form").get_by_role("button", name="Save").click()
    expect(page.locator("#summary")).to_contain_text("Ana Lyst")
    page.locator("#priority-form").get_by_label("Priority").select_option(label="High")
    page.locator("#priority-form").get_by_role("button", name="Save").click()
    expect(page.locator("#summary")).to_contain_text("High")
    assert_no_reload(page)

    recommendation = Recommendation.objects.get(number=3)
    assert recommendation.status.name == "Under consideration"
    assert recommendation.version == 4
    page.screenshot(path=artifacts / "detail-after-actions.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / "detail-phone.png", full_page=True)


def test_a_viewer_sees_no_action_forms(live_server, page: Page):
    make_user("vera", role="Viewer")
    log_in(page, live_server, "vera")
    page.goto(f"{live_server.url}/recommendations/{Recommendation.objects.get(number=1).pk}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("#summary")).to_be_visible()
    for action in ("status", "note", "owner", "priority", "review"):
        expect(page.locator(f"#{action}-form")).to_have_count(0)


def test_a_conflict_shows_who_changed_what_and_keeps_the_text(live_server, page: Page, artifacts):
    make_user("ana", role="Analyst")
    olga = make_user("olga", role="Analyst", first_name="Olga", last_name="Other")
    recommendation = Recommendation.objects.get(number=5)
    log_in(page, live_server, "ana")
    page.goto(f"{live_server.url}/recommendations/{recommendation.pk}/")
    mark_page(page)

    services.status_change(
        recommendation=recommendation,
        to=Status.objects.get(name="Stalled"),
        by=olga,
        rationale="Nothing moved.",
    )

    form = page.locator("#status-form")
    form.get_by_label(re.compile("On track")).check()
    form.get_by_label(re.compile("Rationale")).fill("A long, careful rationale I must not lose.")
    form.get_by_role("button", name="Change status").click()

    alert = form.get_by_role("alert")
    expect(alert).to_contain_text("Someone changed this recommendation")
    expect(alert).to_contain_text("Olga Other")
    expect(alert).to_contain_text("Not started → Stalled")
    expect(form.get_by_label(re.compile("Rationale"))).to_have_value(
        "A long, careful rationale I must not lose."
    )
    expect(page.locator("#summary")).to_contain_text("Stalled")
    assert_no_reload(page)
    page.screenshot(path=artifacts / "detail-conflict.png", full_page=True)

    form.get_by_role("button", name="Change status").click()  # resubmit, now informed
    expect(page.locator("#timeline")).to_contain_text("A long, careful rationale I must not lose.")
    assert Recommendation.objects.get(pk=recommendation.pk).status.name == "On track"
