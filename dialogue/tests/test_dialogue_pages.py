import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from dialogue.models import Dialogue, Participation, Person
from tracker.tests.helpers import (
    make_dialogue,
    make_passage,
    make_person,
    make_recommendation,
    make_user,
)

LIST = reverse("dialogue_list")
SEED_SLUG = "us-rok-strategic-dialogue-2020"


def detail_url(dialogue: Dialogue) -> str:
    return reverse("dialogue_detail", args=[dialogue.slug])


def text_of(fragment: str) -> str:
    """What a reader sees of an HTML fragment, with whitespace collapsed."""
    return " ".join(html.unescape(strip_tags(fragment)).split())


def passage_blocks(page: str) -> list[str]:
    return re.findall(r'<div class="passage-block"[^>]*>.*?</div>', page, flags=re.S)


@pytest.fixture
def viewer(client, db):
    user = make_user(role="Viewer")
    client.force_login(user)
    return user


@pytest.fixture
def seed_dialogue(seed) -> Dialogue:
    return Dialogue.objects.get(slug=SEED_SLUG)


def test_anonymous_users_are_sent_to_log_in(client, seed_dialogue):
    for url in (LIST, detail_url(seed_dialogue)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_list_shows_the_seed_dialogue_with_its_counts(client, viewer, seed_dialogue):
    response = client.get(LIST)
    page = response.content.decode()
    [row] = response.context["page"].object_list
    assert (row.recommendation_count, row.participant_count, row.observer_count) == (6, 11, 6)
    assert f'<a href="{detail_url(seed_dialogue)}">{seed_dialogue.title}</a>' in page
    assert "21 Jul 2020" in page
    assert "Video conference" in page
    assert seed_dialogue.get_track_display() in page
    assert "National Committee on American Foreign Policy" in page
    assert "The US-ROK Alliance: Transactional or Transformational?" in page
    assert "by Rorry DANIELS" in page
    cells = re.findall(
        r'data-label="(Recommendations|Participants|Observers)"><div class="cell">'
        r"(\d+)</div>",
        page,
    )
    assert cells == [("Recommendations", "6"), ("Participants", "11"), ("Observers", "6")]


def test_the_list_is_newest_first_and_paginated_at_25(client, viewer):
    for _ in range(30):
        make_dialogue()
    dialogues = list(Dialogue.objects.order_by("-date"))
    response = client.get(LIST)
    assert list(response.context["page"].object_list) == dialogues[:25]
    assert "?page=2" in response.content.decode()
    second = client.get(LIST, {"page": 2}).context["page"].object_list
    assert list(second) == dialogues[25:]


@pytest.mark.parametrize("number", ["abc", "0", "-1", "99999", ""])
def test_bad_page_numbers_show_a_page_not_an_error(client, viewer, number):
    make_dialogue()
    assert client.get(LIST, {"page": number}).status_code == 200


def test_a_dialogue_without_a_report_or_people_shows_zeros(client, viewer):
    make_dialogue("Bare dialogue")
    page = client.get(LIST).content.decode()
    assert "Bare dialogue" in page
    assert "No report" in page
    assert page.count('<div class="cell">0</div>') == 3


def test_the_seed_page_holds_every_passage_verbatim(client, viewer, seed_dialogue):
    page = client.get(detail_url(seed_dialogue)).content.decode()
    blocks = passage_blocks(page)
    passages = list(seed_dialogue.passages.order_by("number"))
    assert len(passages) == len(blocks) == 15
    for passage, block in zip(passages, blocks, strict=True):
        assert f'id="{passage.anchor}"' in block
        assert " ".join(passage.text.split()) in text_of(block)


def test_the_seed_page_lists_every_participant_and_observer_with_title_then(
    client, viewer, seed_dialogue
):
    page = client.get(detail_url(seed_dialogue)).content.decode()
    participations = seed_dialogue.participations.select_related("person", "organization")
    assert participations.count() == 17
    for participation in participations:
        url = reverse("person_detail", args=[participation.person_id])
        match = re.search(rf'<li><strong><a href="{url}">.*?</li>', page, flags=re.S)
        assert match, participation
        item = text_of(match.group(0))
        assert participation.person.full_name in item
        assert " ".join(participation.title.split()) in item
        assert participation.organization.name in item


def test_no_passage_names_a_participant(client, viewer, seed_dialogue):
    blocks = passage_blocks(client.get(detail_url(seed_dialogue)).content.decode())
    people = Person.objects.filter(participations__dialogue=seed_dialogue)
    assert people.count() == 17
    for block in blocks:
        assert "/people/" not in block
        for person in people:
            # Family names as printed (capitals): "Kim Jong Un" is not KIM Jina.
            assert not re.search(rf"\b{re.escape(person.family_name)}\b", block), person
            assert person.name.lower() not in text_of(block).lower(), person


def test_each_name_on_the_dialogue_page_links_to_the_person(client, viewer, seed_dialogue):
    page = client.get(detail_url(seed_dialogue)).content.decode()
    choi = Person.objects.get(family_name="CHOI")
    assert f'<a href="{reverse("person_detail", args=[choi.pk])}">Dr. CHOI Kang</a>' in page
    assert client.get(reverse("person_detail", args=[choi.pk])).status_code == 200


def test_a_script_in_a_title_or_a_name_is_shown_escaped(client, viewer):
    dialogue = make_dialogue("<script>alert(1)</script>")
    person = make_person("<script>alert(2)</script>", "Eve")
    Participation.objects.create(dialogue=dialogue, person=person, position=1)
    for url in (LIST, detail_url(dialogue)):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert (
        "&lt;script&gt;alert(2)&lt;/script&gt;" in client.get(detail_url(dialogue)).content.decode()
    )


def test_an_unknown_dialogue_is_404(client, viewer):
    assert client.get(reverse("dialogue_detail", args=["no-such-dialogue"])).status_code == 404


def _fill(count: int) -> None:
    """``count`` dialogues, each with recommendations, passages and people."""
    for _ in range(count):
        dialogue = make_dialogue()
        for number in (1, 2):
            make_recommendation(dialogue, number=number)
            make_passage(dialogue, number)
        for position, role in enumerate(["participant", "participant", "observer"]):
            Participation.objects.create(
                dialogue=dialogue, person=make_person(), role=role, position=position
            )


def _queries(client, params: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LIST, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("params", [{}, {"page": "2"}])
def test_the_list_runs_the_same_number_of_queries_at_3_and_60_dialogues(
    client, viewer, params, django_assert_max_num_queries
):
    _fill(3)
    small = _queries(client, params)
    _fill(57)
    assert Dialogue.objects.count() == 60
    with django_assert_max_num_queries(small):
        assert client.get(LIST, params).status_code == 200
