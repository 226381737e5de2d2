"""Rules the database itself enforces, whatever path the data takes."""

import pytest
from django.db import IntegrityError, transaction

from dialogue.models import Participation, Theme
from tracker.models import Status
from tracker.tests.helpers import (
    make_dialogue,
    make_person,
    make_recommendation,
    make_status,
    make_theme,
)

pytestmark = pytest.mark.django_db


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_a_person_takes_part_in_a_dialogue_once():
    dialogue, person = make_dialogue(), make_person()
    Participation.objects.create(dialogue=dialogue, person=person, position=1)
    assert refused(
        lambda: Participation.objects.create(
            dialogue=dialogue, person=person, role="observer", position=2
        )
    )
    # ...but may attend another dialogue.
    Participation.objects.create(dialogue=make_dialogue(), person=person, position=1)


def test_a_recommendation_number_is_unique_within_its_dialogue():
    dialogue = make_dialogue()
    make_recommendation(dialogue, number=1)
    assert refused(lambda: make_recommendation(dialogue, number=1))
    make_recommendation(make_dialogue(), number=1)


def test_status_and_theme_names_are_unique():
    make_status("Stalled")
    make_theme("China")
    assert refused(lambda: make_status("Stalled"))
    assert refused(lambda: Theme.objects.create(name="China", slug="china-2"))


def test_status_progress_and_colour_are_checked():
    assert refused(lambda: make_status(progress=101))
    assert refused(lambda: make_status(colour="red; }"))
    assert Status.objects.count() == 0
