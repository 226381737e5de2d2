"""The roles of PRODUCT.md section 2, as the data migration creates them."""

import pytest

from tracker.tests.helpers import make_user

pytestmark = pytest.mark.django_db


def test_a_viewer_reads_everything_and_changes_nothing():
    viewer = make_user(role="Viewer")
    assert viewer.has_perm("tracker.view_recommendation")
    assert viewer.has_perm("dialogue.view_passage")
    assert viewer.has_perm("tracker.view_statusupdate")
    assert not viewer.has_perm("tracker.track_recommendation")
    assert not viewer.has_perm("tracker.add_note")
    assert not viewer.has_perm("tracker.change_recommendation")


def test_an_analyst_tracks_and_writes_notes_but_does_not_edit_records():
    analyst = make_user(role="Analyst")
    assert analyst.has_perm("tracker.track_recommendation")
    assert analyst.has_perm("tracker.add_note")
    assert analyst.has_perm("tracker.view_dialogue") is False
    assert analyst.has_perm("dialogue.view_dialogue")
    assert not analyst.has_perm("tracker.change_recommendation")
    assert not analyst.has_perm("dialogue.change_participation")


def test_an_editor_edits_every_record_but_no_history():
    editor = make_user(role="Editor")
    for perm in (
        "dialogue.change_dialogue",
        "dialogue.add_person",
        "dialogue.delete_passage",
        "tracker.change_recommendation",
        "tracker.add_status",
        "tracker.change_actor",
        "dialogue.add_theme",
        "tracker.track_recommendation",
    ):
        assert editor.has_perm(perm), perm
    for perm in (
        "tracker.change_statusupdate",
        "tracker.delete_statusupdate",
        "tracker.change_fieldchange",
        "tracker.delete_note",
        "auth.change_user",
    ):
        assert not editor.has_perm(perm), perm
