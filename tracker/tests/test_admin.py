"""The admin as an editor's tool: every page loads, and status changes write history."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tracker.models import FieldChange, Recommendation, Status, StatusUpdate
from tracker.tests.helpers import make_user

pytestmark = pytest.mark.usefixtures("seed")


@pytest.fixture
def editor(client):
    user = make_user("eddie", role="Editor", is_staff=True, first_name="Eddie", last_name="Editor")
    client.force_login(user)
    return user


def change_form_data(recommendation: Recommendation, **overrides) -> dict:
    data = {
        "dialogue": recommendation.dialogue_id,
        "number": recommendation.number,
        "title": recommendation.title,
        "text": recommendation.text,
        "status": recommendation.status_id,
        "owner": recommendation.owner_id or "",
        "priority": recommendation.priority,
        "next_review": "",
        "themes": [t.pk for t in recommendation.themes.all()],
        "actors": [a.pk for a in recommendation.actors.all()],
        "passages": [p.pk for p in recommendation.passages.all()],
        "consult": [],
        "rationale": "",
        "evidence_source": "",
        "evidence_url": "",
    }
    for prefix in ("status_updates", "field_changes", "notes"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return {**data, **overrides}


def test_every_admin_page_loads_for_a_superuser(client, rf):
    root = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(root)
    request = rf.get("/")
    request.user = root
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        assert client.get(changelist, {"q": "korea"}).status_code == 200, changelist
        if model_admin.has_add_permission(request):
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            assert client.get(add).status_code == 200, add
        first = model.objects.first()
        if first is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            assert client.get(change).status_code == 200, change


def test_a_status_change_in_the_admin_is_in_the_history_with_the_editors_name(client, editor):
    recommendation = Recommendation.objects.get(number=2)
    on_track = Status.objects.get(name="On track")
    url = reverse("admin:tracker_recommendation_change", args=[recommendation.pk])

    response = client.post(
        url,
        change_form_data(
            recommendation,
            status=on_track.pk,
            owner=editor.pk,
            title="Close the SMA talks",
            rationale="Negotiators agreed a text.",
            evidence_source="Press release",
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    recommendation.refresh_from_db()
    assert recommendation.status == on_track
    assert recommendation.owner == editor
    assert recommendation.title == "Close the SMA talks"
    assert recommendation.version == 2
    update = StatusUpdate.objects.get(recommendation=recommendation)
    assert update.by == editor
    assert update.from_status.name == "Not started"
    assert update.rationale == "Negotiators agreed a text."
    assert update.evidence_source == "Press release"
    owner_change = FieldChange.objects.get(recommendation=recommendation)
    assert (owner_change.field, owner_change.by, owner_change.new_label) == (
        "owner",
        editor,
        "Eddie Editor",
    )
    history_page = client.get(url).content.decode()
    assert "Negotiators agreed a text." in history_page


def test_an_admin_status_change_without_rationale_is_refused(client, editor):
    recommendation = Recommendation.objects.get(number=2)
    url = reverse("admin:tracker_recommendation_change", args=[recommendation.pk])
    on_track = Status.objects.get(name="On track")

    response = client.post(url, change_form_data(recommendation, status=on_track.pk))

    assert response.status_code == 200
    assert "Give a rationale for the status change." in response.content.decode()
    recommendation.refresh_from_db()
    assert recommendation.status.name == "Not started"
    assert not StatusUpdate.objects.exists()


def test_the_bulk_action_asks_for_a_rationale_then_writes_history(client, editor):
    chosen = list(Recommendation.objects.filter(number__in=[1, 3]))
    stalled = Status.objects.get(name="Stalled")
    changelist = reverse("admin:tracker_recommendation_changelist")
    selection = {"action": "change_status", "_selected_action": [r.pk for r in chosen]}

    confirm = client.post(changelist, selection)
    assert confirm.status_code == 200
    assert "Rationale" in confirm.content.decode()
    assert not StatusUpdate.objects.exists()

    incomplete = client.post(changelist, {**selection, "apply": "1", "status": stalled.pk})
    assert incomplete.status_code == 200  # the form again, with its error
    assert not StatusUpdate.objects.exists()

    done = client.post(
        changelist,
        {**selection, "apply": "1", "status": stalled.pk, "rationale": "No movement in a year."},
    )
    assert done.status_code == 302
    updates = StatusUpdate.objects.filter(to_status=stalled)
    assert sorted(u.recommendation.number for u in updates) == [1, 3]
    assert {(u.by, u.rationale) for u in updates} == {(editor, "No movement in a year.")}
    assert Recommendation.objects.filter(status=stalled).count() == 2
    assert Recommendation.objects.get(number=2).status.name == "Not started"


def test_history_cannot_be_edited_or_deleted_in_the_admin(client, editor):
    recommendation = Recommendation.objects.get(number=1)
    client.post(
        reverse("admin:tracker_recommendation_change", args=[recommendation.pk]),
        change_form_data(
            recommendation, status=Status.objects.get(name="On track").pk, rationale="Moved."
        ),
    )
    update = StatusUpdate.objects.get()
    change_url = reverse("admin:tracker_statusupdate_change", args=[update.pk])
    client.post(change_url, {"rationale": "Rewritten"})
    assert client.get(
        reverse("admin:tracker_statusupdate_delete", args=[update.pk])
    ).status_code in (
        302,
        403,
    )
    update.refresh_from_db()
    assert update.rationale == "Moved."


def test_a_viewer_cannot_use_the_admin(client):
    client.force_login(make_user("vera", role="Viewer"))
    response = client.get(reverse("admin:tracker_recommendation_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url
