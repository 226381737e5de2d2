import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dialogue.models import Person
from tracker import services
from tracker.models import Recommendation, Status
from tracker.tests.helpers import make_dialogue, make_recommendation, make_user

pytestmark = pytest.mark.usefixtures("seed")


def detail_url(recommendation: Recommendation) -> str:
    return reverse("recommendation_detail", args=[recommendation.pk])


@pytest.fixture
def sma():
    return Recommendation.objects.get(number=2)


def section(page: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by ``heading_id``."""
    match = re.search(
        rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', page, flags=re.S
    )
    assert match, heading_id
    return match.group(0)


def test_the_page_shows_text_passages_people_and_timeline(client, sma):
    analyst = make_user("ana", role="Analyst", first_name="Ana", last_name="Lyst")
    sma.consult.add(Person.objects.get(family_name="CHOI"))
    services.status_change(
        recommendation=sma,
        to=Status.objects.get(name="Under consideration"),
        by=analyst,
        rationale="Talks resumed in autumn.",
    )
    services.note_add(recommendation=sma, by=analyst, text="A later note.")
    client.force_login(analyst)

    page = client.get(detail_url(sma)).content.decode()

    assert sma.text in page
    passages = section(page, "passages-heading")
    assert "self-inflicted wound" in passages
    assert 'href="/dialogues/us-rok-strategic-dialogue-2020/#passage-3"' in passages
    people = section(page, "people-heading")
    assert "Dr. CHOI Kang" in people
    assert "Project Manager, Forum on Asia-Pacific Security, National Committee on" in people
    assert "Ms. KIM Haeyoon" in people
    timeline = section(page, "timeline-heading")
    assert timeline.index("A later note.") < timeline.index("Talks resumed in autumn.")
    assert "Ana Lyst" in timeline


def test_no_named_person_is_shown_as_the_source_of_a_passage(client, sma):
    client.force_login(make_user(role="Viewer"))
    passages = section(client.get(detail_url(sma)).content.decode(), "passages-heading")
    for person in Person.objects.all():
        assert not re.search(rf"\b{re.escape(person.family_name)}\b", passages), person


def test_a_viewer_sees_no_action_forms(client, sma):
    client.force_login(make_user(role="Viewer"))
    page = client.get(detail_url(sma)).content.decode()
    assert "<form" in page  # the log-out form
    for action in ("status", "note", "owner", "priority", "review"):
        assert f'id="{action}-form"' not in page
    assert reverse("recommendation_status", args=[sma.pk]) not in page


def test_an_analyst_sees_every_action_form(client, sma):
    client.force_login(make_user(role="Analyst"))
    page = client.get(detail_url(sma)).content.decode()
    for action in ("status", "note", "owner", "priority", "review"):
        assert f'id="{action}-form"' in page
    for status in Status.objects.all():
        assert status.definition in page  # shown while choosing


def test_an_unknown_recommendation_is_a_404(client):
    client.force_login(make_user())
    assert client.get("/recommendations/999999/").status_code == 404
    assert client.get("/recommendations/abc/").status_code == 404


def _fill_history(recommendation: Recommendation, rounds: int) -> None:
    users = [make_user(role="Analyst") for _ in range(3)]
    statuses = list(Status.objects.all())
    for n in range(rounds):
        current = Recommendation.objects.get(pk=recommendation.pk)
        services.status_change(
            recommendation=current,
            to=next(s for s in statuses[n % 5 :] if s.pk != current.status_id),
            by=users[n % 3],
            rationale=f"Round {n}",
        )
        services.recommendation_change(recommendation=current, by=users[n % 3], owner=users[n % 3])
        services.note_add(recommendation=current, by=users[n % 3], text=f"Note {n}")


def test_the_detail_page_runs_the_same_number_of_queries_at_5_and_500(
    client, django_assert_max_num_queries
):
    client.force_login(make_user(role="Analyst"))
    dialogue = make_dialogue()
    target = make_recommendation(dialogue, number=1)
    for number in range(2, 6):
        make_recommendation(dialogue, number=number)
    _fill_history(target, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(detail_url(target)).status_code == 200

    for number in range(6, 501):
        make_recommendation(dialogue, number=number)
    _fill_history(target, 40)
    with django_assert_max_num_queries(len(small)):
        client.get(detail_url(target))


def test_a_note_with_script_is_escaped_on_every_page_that_shows_it(client, sma):
    payload = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'
    analyst = make_user("ana", role="Analyst")
    client.force_login(analyst)
    fragment = client.post(
        reverse("recommendation_note", args=[sma.pk]),
        {"text": payload, "version": sma.version},
        headers={"HX-Request": "true"},
    ).content.decode()
    detail = client.get(detail_url(sma)).content.decode()
    root = make_user(is_staff=True, is_superuser=True)
    client.force_login(root)
    admin_list = client.get(reverse("admin:tracker_note_changelist")).content.decode()
    admin_rec = client.get(
        reverse("admin:tracker_recommendation_change", args=[sma.pk])
    ).content.decode()
    for page in (fragment, detail, admin_list, admin_rec):
        assert "<script>alert" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in detail
    assert "&lt;script&gt;" in fragment
