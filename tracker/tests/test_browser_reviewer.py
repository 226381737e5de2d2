"""The reviewer's pages in a real browser: dashboard with the demo history, report, print."""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tracker.tests.helpers import make_user
from tracker.tests.test_browser_home import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("roles", "seed")]


@pytest.fixture
def reviewer(live_server, page: Page):
    call_command("load_demo", verbosity=0)
    make_user("rita", role="Viewer", first_name="Rita", last_name="Reviewer")
    log_in(page, live_server, "rita")
    return page


def test_the_dashboard_with_the_demo_history_and_as_of(reviewer: Page, live_server, artifacts):
    page = reviewer
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="2 Implemented")).to_be_visible()
    page.get_by_text("The trend as a table").click()
    expect(page.locator(".trend-table table")).to_be_visible()
    page.screenshot(path=artifacts / "dashboard-demo.png", full_page=True)

    page.get_by_label("As of").fill("2022-01-31")
    page.get_by_label("What changed since").fill("2021-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("as of 31 January 2022")
    expect(page.get_by_role("link", name="1 Nearing implementation")).to_be_visible()
    expect(page.get_by_role("link", name="0 Implemented")).to_be_visible()
    changed = page.locator("section", has=page.get_by_role("heading", name="What changed since"))
    expect(changed).to_contain_text("2 recommendations moved")
    page.screenshot(path=artifacts / "dashboard-as-of.png", full_page=True)

    page.get_by_role("link", name="1 Nearing implementation").click()
    expect(page.locator(".rec-table tbody tr")).to_have_count(1)
    expect(page.locator(".rec-table")).to_contain_text("Nearing implementation")


def test_the_dialogue_page_reads_as_the_report(reviewer: Page, live_server, artifacts):
    page = reviewer
    page.goto(f"{live_server.url}/dialogues/us-rok-strategic-dialogue-2020/#passage-3")
    target = page.locator("#passage-3")
    expect(target).to_contain_text("self-inflicted wound")
    expect(target).to_be_in_viewport()
    expect(page.locator(".passage-block")).to_have_count(15)
    page.screenshot(path=artifacts / "dialogue-page.png", full_page=True)


def test_the_review_pack_prints_without_navigation(reviewer: Page, live_server, artifacts):
    page = reviewer
    page.goto(f"{live_server.url}/recommendations/")
    page.get_by_role("link", name="Review pack (print)").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Policy recommendations")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".review-toolbar")).to_be_hidden()
    breaks = page.locator(".review__dialogue").first.evaluate(
        "el => getComputedStyle(el).breakBefore"
    )
    assert breaks == "page"
    page.screenshot(path=artifacts / "review-print.png", full_page=True)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    (artifacts / "review.pdf").write_bytes(pdf)
