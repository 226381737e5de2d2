import datetime

import pytest
from django.db import IntegrityError, transaction

from tracker import services
from tracker.models import FieldChange, Recommendation, StatusUpdate
from tracker.tests.helpers import make_recommendation, make_status, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def statuses():
    return make_status("Not started"), make_status("On track"), make_status("Implemented")


def test_a_status_change_writes_one_update_with_who_from_and_to(statuses):
    not_started, on_track, _ = statuses
    analyst = make_user("ana")
    recommendation = make_recommendation(status=not_started)

    services.status_change(
        recommendation=recommendation,
        to=on_track,
        by=analyst,
        rationale="Talks resumed.",
        based_on_version=1,
        evidence_source="Joint statement",
        evidence_url="https://example.org/statement",
        evidence_date=datetime.date(2021, 3, 10),
    )

    recommendation.refresh_from_db()
    assert recommendation.status == on_track
    assert recommendation.version == 2
    update = StatusUpdate.objects.get()
    assert (update.from_status, update.to_status, update.by) == (not_started, on_track, analyst)
    assert update.rationale == "Talks resumed."
    assert update.evidence_date == datetime.date(2021, 3, 10)


def test_a_stale_version_is_a_conflict_and_writes_nothing(statuses):
    not_started, on_track, implemented = statuses
    recommendation = make_recommendation(status=not_started)
    services.status_change(
        recommendation=recommendation, to=on_track, by=make_user(), rationale="First."
    )

    with pytest.raises(services.ConflictError):
        services.status_change(
            recommendation=recommendation,
            to=implemented,
            by=make_user(),
            rationale="Second, based on what I saw before the first.",
            based_on_version=1,
        )

    recommendation.refresh_from_db()
    assert recommendation.status == on_track
    assert recommendation.version == 2
    assert StatusUpdate.objects.count() == 1


def test_a_status_change_needs_a_rationale(statuses):
    not_started, on_track, _ = statuses
    recommendation = make_recommendation(status=not_started)
    with pytest.raises(services.ChangeError):
        services.status_change(
            recommendation=recommendation, to=on_track, by=make_user(), rationale="   "
        )
    recommendation.refresh_from_db()
    assert recommendation.status == not_started
    assert not StatusUpdate.objects.exists()


def test_owner_priority_and_review_date_changes_leave_history(statuses):
    editor = make_user("ed")
    owner = make_user("olive", first_name="Olive", last_name="Owner")
    recommendation = make_recommendation(status=statuses[0])

    services.recommendation_change(
        recommendation=recommendation,
        by=editor,
        owner=owner,
        priority=Recommendation.Priority.HIGH,
        next_review=datetime.date(2027, 1, 15),
    )

    changes = {change.field: change for change in FieldChange.objects.all()}
    assert set(changes) == {"owner", "priority", "next_review"}
    assert changes["owner"].new_label == "Olive Owner"
    assert changes["owner"].new_value == str(owner.pk)
    assert changes["owner"].old_value == ""
    assert (changes["priority"].old_label, changes["priority"].new_label) == ("Medium", "High")
    assert changes["next_review"].new_value == "2027-01-15"
    assert all(change.by == editor for change in changes.values())
    recommendation.refresh_from_db()
    assert recommendation.version == 2  # one change, however many fields


def test_setting_a_field_to_its_current_value_changes_nothing(statuses):
    recommendation = make_recommendation(status=statuses[0])
    services.recommendation_change(
        recommendation=recommendation, by=make_user(), priority=recommendation.priority
    )
    recommendation.refresh_from_db()
    assert recommendation.version == 1
    assert not FieldChange.objects.exists()


def test_history_entries_are_immutable(statuses):
    recommendation = make_recommendation(status=statuses[0])
    services.status_change(
        recommendation=recommendation, to=statuses[1], by=make_user(), rationale="Moved."
    )
    update = StatusUpdate.objects.get()
    update.rationale = "Rewritten history"
    with pytest.raises(ValueError):
        update.save()
    with pytest.raises(ValueError):
        update.delete()
    assert StatusUpdate.objects.get().rationale == "Moved."


def test_the_database_refuses_a_status_update_without_rationale(statuses):
    recommendation = make_recommendation(status=statuses[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusUpdate.objects.create(
            recommendation=recommendation,
            from_status=statuses[0],
            to_status=statuses[1],
            by=make_user(),
            version=2,
            rationale="",
        )


def test_bulk_status_change_is_all_or_nothing(statuses, monkeypatch):
    not_started, on_track, _ = statuses
    first, second = make_recommendation(status=not_started), make_recommendation(status=not_started)
    real_change = services.recommendation_change
    calls = []

    def fail_on_second(**kwargs):
        calls.append(kwargs["recommendation"].pk)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_change(**kwargs)

    monkeypatch.setattr(services, "recommendation_change", fail_on_second)
    with pytest.raises(RuntimeError):
        services.status_change_bulk(
            recommendations=Recommendation.objects.filter(pk__in=[first.pk, second.pk]),
            to=on_track,
            by=make_user(),
            rationale="Both moved.",
        )
    assert not StatusUpdate.objects.exists()
    assert set(Recommendation.objects.values_list("status", flat=True)) == {not_started.pk}


def test_back_dated_history_must_come_in_time_order(statuses):
    import datetime as dt

    from django.utils import timezone

    not_started, on_track, implemented = statuses
    recommendation = make_recommendation(status=not_started)
    services.status_change(
        recommendation=recommendation, to=on_track, by=make_user(), rationale="Now."
    )
    with pytest.raises(services.ChangeError):
        services.status_change(
            recommendation=Recommendation.objects.get(pk=recommendation.pk),
            to=implemented,
            by=make_user(),
            rationale="Last year.",
            at=timezone.now() - dt.timedelta(days=365),
        )
    assert StatusUpdate.objects.count() == 1
