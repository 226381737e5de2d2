"""The status round trip in a real browser: pick the file, read the preview, apply."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from tracker.models import StatusUpdate
from tracker.tests.helpers import make_user
from tracker.tests.test_browser_home import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("roles", "seed")]


def edited_export(user) -> bytes:
    client = Client()
    client.force_login(user)
    body = b"".join(client.get(reverse("export_csv")).streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    rows[1].update(status="On track", rationale="Both governments <b>agreed</b>.")
    rows[2].update(status="No such status")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def test_an_analyst_uploads_previews_and_applies(live_server, page: Page, artifacts):
    analyst = make_user("ana", role="Analyst", first_name="Ana", last_name="Lyst")
    log_in(page, live_server, "ana")

    page.goto(f"{live_server.url}{reverse('status_import')}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload statuses (CSV)")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "statuses.csv", "mimeType": "text/csv", "buffer": edited_export(analyst)}]
    )
    page.get_by_role("button", name="Preview changes").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: upload statuses")
    expect(page.get_by_text("Both governments <b>agreed</b>.")).to_be_visible()
    expect(page.get_by_text("Unknown status “No such status”.")).to_be_visible()
    page.screenshot(path=artifacts / "status-import-preview.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts / "status-import-preview-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    assert StatusUpdate.objects.count() == 0

    page.get_by_role("button", name="Apply 1 change").click()

    expect(page).to_have_url(f"{live_server.url}{reverse('recommendation_list')}")
    expect(page.get_by_role("status").first).to_contain_text("1 recommendation updated")
    update = StatusUpdate.objects.get()
    assert (update.to_status.name, update.by, update.recommendation.number) == (
        "On track",
        analyst,
        2,
    )
    assert update.rationale == "Both governments <b>agreed</b>."
