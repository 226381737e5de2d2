"""The analyst's actions: status, note, owner, priority, review date."""

import datetime
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tracker import services
from tracker.models import FieldChange, Note, Recommendation, Status, StatusUpdate
from tracker.tests.helpers import make_user

pytestmark = pytest.mark.usefixtures("seed")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def rec():
    return Recommendation.objects.get(number=2)


@pytest.fixture
def analyst(client):
    user = make_user("ana", role="Analyst", first_name="Ana", last_name="Lyst")
    client.force_login(user)
    return user


def url(name: str, recommendation: Recommendation) -> str:
    return reverse(f"recommendation_{name}", args=[recommendation.pk])


def status(name: str) -> Status:
    return Status.objects.get(name=name)


def history_count() -> tuple[int, int, int]:
    return StatusUpdate.objects.count(), FieldChange.objects.count(), Note.objects.count()


# Status ------------------------------------------------------------------------------


def test_a_plain_status_change_redirects_back_with_a_message(client, analyst, rec):
    response = client.post(
        url("status", rec),
        {
            "status": status("Under consideration").pk,
            "rationale": "Both sides tabled proposals.",
            "evidence_source": "Joint press statement",
            "evidence_url": "https://www.state.gov/",
            "evidence_date": "2021-03-07",
            "version": 1,
        },
        follow=True,
    )
    assert response.redirect_chain == [(reverse("recommendation_detail", args=[rec.pk]), 302)]
    assert "Status changed." in response.content.decode()
    update = StatusUpdate.objects.get()
    assert (update.to_status.name, update.by, update.version) == ("Under consideration", analyst, 2)
    assert update.evidence_date == datetime.date(2021, 3, 7)
    rec.refresh_from_db()
    assert rec.status.name == "Under consideration" and rec.version == 2


def test_an_htmx_status_change_returns_its_fragment_and_the_updated_timeline(client, analyst, rec):
    response = client.post(
        url("status", rec),
        {"status": status("On track").pk, "rationale": "Agreement signed.", "version": 1},
        headers=HTMX,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith('\n<div id="status-form"') or page.lstrip().startswith(
        '<div id="status-form"'
    )
    assert "<html" not in page
    assert '<section id="timeline"' in page and 'hx-swap-oob="true"' in page
    assert "Agreement signed." in page
    assert '<div id="summary"' in page
    # the other forms on the page move to the new version
    for other in ("note", "owner", "priority", "review"):
        assert f'id="{other}-version" value="2" hx-swap-oob="true"' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rationale": ""}, "This field is required."),
        ({"rationale": "x" * 5001}, "Ensure this value has at most 5000 characters"),
        ({"status": "999999"}, "Select a valid choice."),
        ({"status": "not-a-number"}, "Select a valid choice."),
        ({"status": "__current__"}, "already"),
        ({"evidence_url": "javascript:alert(1)"}, "Enter a valid URL."),
        ({"evidence_date": "2999-01-01"}, "cannot be in the future"),
        ({"evidence_date": "31/31/2020"}, "Enter a valid date."),
        ({"version": "abc"}, "Enter a whole number."),
        ({"version": ""}, "This field is required."),
    ],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_status_input_gets_400_and_writes_nothing(client, analyst, rec, data, message, htmx):
    form = {"status": status("Stalled").pk, "rationale": "Because.", "version": 1, **data}
    if form["status"] == "__current__":
        form["status"] = rec.status_id
    response = client.post(url("status", rec), form, headers=HTMX if htmx else {})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert history_count() == (0, 0, 0)
    rec.refresh_from_db()
    assert rec.version == 1 and rec.status.name == "Not started"


def test_a_stale_version_gets_409_naming_who_changed_what_and_keeps_the_input(client, analyst, rec):
    other = make_user("olga", role="Analyst", first_name="Olga", last_name="Other")
    services.status_change(
        recommendation=rec,
        to=status("Stalled"),
        by=other,
        rationale="No talks.",
        based_on_version=1,
    )
    before = history_count()

    response = client.post(
        url("status", rec),
        {"status": status("On track").pk, "rationale": "My careful reasoning.", "version": 1},
        headers=HTMX,
    )

    page = response.content.decode()
    assert response.status_code == 409
    assert "Someone changed this recommendation after you opened the page." in page
    assert "Olga Other" in page and "Not started → Stalled" in page
    assert "My careful reasoning." in page  # nothing typed is lost
    assert 'id="status-version" value="2"' in page  # a resubmission is based on what they saw
    assert history_count() == before
    rec.refresh_from_db()
    assert rec.status.name == "Stalled" and rec.version == 2


def test_a_plain_post_conflict_renders_the_page_with_409(client, analyst, rec):
    other = make_user("olga", role="Analyst")
    services.recommendation_change(recommendation=rec, by=other, priority=1)
    response = client.post(url("priority", rec), {"priority": 3, "version": 1})
    assert response.status_code == 409
    page = response.content.decode()
    assert "<html" in page and "priority Medium → High" in page
    rec.refresh_from_db()
    assert rec.priority == 1


def test_the_same_version_twice_one_wins_one_conflicts(analyst, rec):
    first, second = Client(), Client()
    first.force_login(analyst)
    second.force_login(make_user("olga", role="Analyst"))
    form = {"status": status("On track").pk, "rationale": "Racing.", "version": 1}
    assert first.post(url("status", rec), form, headers=HTMX).status_code == 200
    assert second.post(url("status", rec), form, headers=HTMX).status_code == 409
    assert StatusUpdate.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_clients_racing_at_once_one_200_one_409(roles, seed):
    """Really concurrent: two threads, two connections, released together."""
    recommendation = Recommendation.objects.get(number=2)
    users = [make_user(f"racer{n}", role="Analyst") for n in range(2)]
    form = {"rationale": "Racing.", "version": 1}
    targets = [status("On track").pk, status("Stalled").pk]
    barrier = threading.Barrier(2, timeout=30)
    codes: list[int] = []
    errors: list[BaseException] = []

    def post(n: int) -> None:
        try:
            client = Client()
            client.force_login(users[n])
            barrier.wait()
            response = client.post(
                url("status", recommendation), {**form, "status": targets[n]}, headers=HTMX
            )
            codes.append(response.status_code)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(codes) == [200, 409]
    assert StatusUpdate.objects.count() == 1
    assert Recommendation.objects.get(pk=recommendation.pk).version == 2


# Notes -------------------------------------------------------------------------------


def test_a_note_is_added_to_the_timeline(client, analyst, rec):
    response = client.post(
        url("note", rec), {"text": "Check the budget.", "version": 1}, headers=HTMX
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Check the budget." in page and 'id="timeline"' in page
    note = Note.objects.get()
    assert (note.author, note.text) == (analyst, "Check the budget.")
    rec.refresh_from_db()
    assert rec.version == 1  # a note changes nothing of the recommendation


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001])
def test_an_empty_or_overlong_note_is_refused(client, analyst, rec, text):
    response = client.post(url("note", rec), {"text": text, "version": 1}, headers=HTMX)
    assert response.status_code == 400
    assert not Note.objects.exists()


def test_a_note_on_a_changed_recommendation_gets_409_and_keeps_the_text(client, analyst, rec):
    services.recommendation_change(recommendation=rec, by=make_user(), owner=analyst)
    response = client.post(url("note", rec), {"text": "My note.", "version": 1}, headers=HTMX)
    assert response.status_code == 409
    assert "My note." in response.content.decode()
    assert not Note.objects.exists()


# Owner, priority, review date --------------------------------------------------------


def test_assign_and_unassign_the_owner(client, analyst, rec):
    assert client.post(url("owner", rec), {"owner": analyst.pk, "version": 1}).status_code == 302
    rec.refresh_from_db()
    assert rec.owner == analyst
    assert client.post(url("owner", rec), {"owner": "", "version": 2}).status_code == 302
    rec.refresh_from_db()
    assert rec.owner is None
    changes = list(FieldChange.objects.order_by("at", "id").values_list("new_label", flat=True))
    assert changes == ["Ana Lyst", ""]


def test_only_someone_who_tracks_can_own(client, analyst, rec):
    viewer = make_user("vic", role="Viewer")
    response = client.post(url("owner", rec), {"owner": viewer.pk, "version": 1}, headers=HTMX)
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert not FieldChange.objects.exists()


def test_set_the_priority(client, analyst, rec):
    response = client.post(url("priority", rec), {"priority": 1, "version": 1}, headers=HTMX)
    assert response.status_code == 200
    rec.refresh_from_db()
    assert rec.priority == Recommendation.Priority.HIGH
    assert FieldChange.objects.get().new_label == "High"
    assert client.post(url("priority", rec), {"priority": 7, "version": 2}).status_code == 400


def test_set_and_clear_the_review_date(client, analyst, rec):
    soon = timezone.localdate() + datetime.timedelta(days=14)
    response = client.post(url("review", rec), {"next_review": soon.isoformat(), "version": 1})
    assert response.status_code == 302
    rec.refresh_from_db()
    assert rec.next_review == soon
    client.post(url("review", rec), {"next_review": "", "version": 2})
    rec.refresh_from_db()
    assert rec.next_review is None
    assert FieldChange.objects.filter(field="next_review").count() == 2


@pytest.mark.parametrize("value", ["tomorrow", "2026-02-30", "1850-01-01", "99999-01-01"])
def test_a_bad_review_date_is_refused(client, analyst, rec, value):
    response = client.post(url("review", rec), {"next_review": value, "version": 1}, headers=HTMX)
    assert response.status_code == 400
    assert not FieldChange.objects.exists()


# Permissions and CSRF ----------------------------------------------------------------

ACTIONS = {
    "status": {"status": "__stalled__", "rationale": "x", "version": 1},
    "note": {"text": "x", "version": 1},
    "owner": {"owner": "", "version": 1},
    "priority": {"priority": 1, "version": 1},
    "review": {"next_review": "2030-01-01", "version": 1},
}


def _form(name: str) -> dict:
    form = dict(ACTIONS[name])
    if form.get("status") == "__stalled__":
        form["status"] = status("Stalled").pk
    return form


@pytest.mark.parametrize("name", ACTIONS)
def test_a_viewer_gets_403_on_every_action_and_nothing_is_written(client, rec, name):
    client.force_login(make_user("vera", role="Viewer"))
    for headers in ({}, HTMX):
        assert client.post(url(name, rec), _form(name), headers=headers).status_code == 403
    assert history_count() == (0, 0, 0)
    rec.refresh_from_db()
    assert rec.version == 1


@pytest.mark.parametrize("name", ACTIONS)
def test_anonymous_users_are_sent_to_log_in_and_nothing_is_written(client, rec, name):
    response = client.post(url(name, rec), _form(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert history_count() == (0, 0, 0)


@pytest.mark.parametrize("name", ACTIONS)
def test_actions_only_accept_post(client, analyst, rec, name):
    assert client.get(url(name, rec)).status_code == 405


@pytest.mark.parametrize("name", ACTIONS)
def test_a_post_without_a_csrf_token_is_refused(analyst, rec, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    assert client.post(url(name, rec), _form(name), headers=HTMX).status_code == 403
    assert history_count() == (0, 0, 0)


def test_htmx_sends_the_csrf_token_in_a_header(analyst, rec):
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    page = client.get(reverse("recommendation_detail", args=[rec.pk])).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    token = client.cookies["csrftoken"].value
    response = client.post(
        url("note", rec),
        {"text": "Sent by htmx.", "version": 1},
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert Note.objects.get().text == "Sent by htmx."


def test_an_unknown_recommendation_is_a_404(client, analyst):
    response = client.post("/recommendations/999999/status", {"version": 1})
    assert response.status_code == 404
