"""The editors' import page: upload or paste, preview, confirm; and the suggestions' fate."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dialogue.models import Dialogue
from tracker.models import LinkSuggestion, Recommendation
from tracker.tests.helpers import make_user

SEED = Path(settings.BASE_DIR, "fixtures", "reports", "us-rok-strategic-dialogue-2020.txt")
URL = reverse("report_import")
pytestmark = pytest.mark.usefixtures("vocabulary")


@pytest.fixture
def editor(client):
    user = make_user("eddie", role="Editor", is_staff=True)
    client.force_login(user)
    return user


def preview(client, **data):
    response = client.post(URL, data)
    return response, response.content.decode()


def test_upload_preview_then_confirm_imports_the_report(client, editor):
    upload = SimpleUploadedFile("report.txt", SEED.read_bytes(), content_type="text/plain")
    response, page = preview(client, file=upload)
    assert response.status_code == 200
    assert "Preview: nothing is written yet" in page
    assert "6 recommendations, 15 summary passages, 11 participants, 6 observers" in page
    assert "Dr. CHOI Kang" in page
    assert not Dialogue.objects.exists()

    confirm = client.post(
        reverse("report_import_confirm"), {"payload": response.context["payload"]}
    )
    dialogue = Dialogue.objects.get()
    assert confirm.status_code == 302 and confirm.url == f"/dialogues/{dialogue.slug}/"
    assert dialogue.recommendations.count() == 6


def test_pasted_text_works_too_and_a_second_import_creates_nothing(client, editor):
    response, _ = preview(client, text=SEED.read_text())
    client.post(reverse("report_import_confirm"), {"payload": response.context["payload"]})
    response, page = preview(client, text=SEED.read_text())
    assert "This report was imported before" in page
    client.post(reverse("report_import_confirm"), {"payload": response.context["payload"]})
    assert Dialogue.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a file or paste the report"),
        ({"text": "Just a line."}, "Policy Recommendations"),
        ({"file": SimpleUploadedFile("x.bin", b"\x00\x01\x02")}, "binary file"),
    ],
)
def test_bad_input_gets_400_with_the_reason(client, editor, data, message):
    response, page = preview(client, **data)
    assert response.status_code == 400
    assert message in page
    assert not Dialogue.objects.exists()


def test_an_altered_preview_is_refused(client, editor):
    response = client.post(reverse("report_import_confirm"), {"payload": "forged:payload"})
    assert response.status_code == 400
    assert not Dialogue.objects.exists()


@pytest.mark.parametrize("role", ["Viewer", "Analyst"])
def test_only_editors_import(client, role):
    client.force_login(make_user(role=role))
    assert client.get(URL).status_code == 403
    assert client.post(reverse("report_import_confirm"), {"payload": "x"}).status_code == 403


def test_editors_confirm_or_remove_suggestions_and_others_cannot(client, editor):
    response, _ = preview(client, text=SEED.read_text())
    client.post(reverse("report_import_confirm"), {"payload": response.context["payload"]})
    sma = Recommendation.objects.get(number=2)
    page = client.get(reverse("recommendation_detail", args=[sma.pk])).content.decode()
    assert "Suggested links" in page and "suggested source passage" in page

    passage = LinkSuggestion.objects.get(recommendation=sma, passage__number=3)
    theme = LinkSuggestion.objects.filter(recommendation=sma, kind="theme").first()
    client.post(reverse("suggestion_confirm", args=[sma.pk, passage.pk]))
    client.post(reverse("suggestion_remove", args=[sma.pk, theme.pk]))
    assert list(sma.passages.values_list("number", flat=True)) == [3]
    assert not sma.themes.exists()
    assert not LinkSuggestion.objects.filter(pk__in=[passage.pk, theme.pk]).exists()

    other = LinkSuggestion.objects.first()
    client.force_login(make_user(role="Analyst"))
    url = reverse("suggestion_confirm", args=[other.recommendation_id, other.pk])
    assert client.post(url).status_code == 403
    assert LinkSuggestion.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize("decision", ["suggestion_confirm", "suggestion_remove"])
@pytest.mark.parametrize("huge", ["recommendation", "suggestion"])
def test_ids_past_the_database_range_are_not_found(client, editor, decision, huge):
    """SQLite cannot even bind an integer past 2**63: a 404, not a 500."""
    response, _ = preview(client, text=SEED.read_text())
    client.post(reverse("report_import_confirm"), {"payload": response.context["payload"]})
    suggestion = LinkSuggestion.objects.first()
    ids = [suggestion.recommendation_id, suggestion.pk]
    ids[0 if huge == "recommendation" else 1] = 2**64
    assert client.post(reverse(decision, args=ids)).status_code == 404
    assert LinkSuggestion.objects.filter(pk=suggestion.pk).exists()
