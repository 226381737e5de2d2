import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dialogue.models import Dialogue, Organization, Participation, Person
from tracker.tests.helpers import make_dialogue, make_passage, make_person, make_user

LIST = reverse("person_list")


def person_url(person: Person) -> str:
    return reverse("person_detail", args=[person.pk])


def attend(person: Person, dialogue: Dialogue, **fields) -> Participation:
    defaults = {"role": Participation.Role.PARTICIPANT, "position": person.pk}
    return Participation.objects.create(person=person, dialogue=dialogue, **{**defaults, **fields})


@pytest.fixture
def viewer(client, db):
    user = make_user(role="Viewer")
    client.force_login(user)
    return user


def attendances(page: str) -> list[tuple[str, str]]:
    """(dialogue slug, the list item's HTML) for each dialogue on a person page, in order."""
    return re.findall(r'<li>\s*<a href="/dialogues/([\w-]+)/">(.*?)</li>', page, flags=re.S)


def listed(client, **params) -> list[str]:
    response = client.get(LIST, params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return [person.name for person in response.context["page"].object_list]


def test_anonymous_users_are_sent_to_log_in(client, db):
    person = make_person()
    for url in (LIST, person_url(person)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_list_is_sorted_by_family_name_whatever_the_case(client, viewer):
    make_person("ZAGORIA", "Donald")
    make_person("abe", "Shinzo")
    make_person("KIM", "Jina", name_order=Person.NameOrder.FAMILY_FIRST)
    make_person("Baker", "Anna")
    assert listed(client) == ["Shinzo abe", "Anna Baker", "KIM Jina", "Donald ZAGORIA"]


def test_the_list_shows_full_names_and_attendances(client, viewer):
    choi = make_person("CHOI", "Kang", honorific="Dr.", name_order="family_first")
    asan = Organization.objects.create(name="ASAN Institute for Policy Studies")
    dialogue = make_dialogue("Strategic Dialogue")
    attend(choi, dialogue, title="Acting President", organization=asan)
    page = client.get(LIST).content.decode()
    assert f'<a href="{person_url(choi)}">Dr. CHOI Kang</a>' in page
    assert f'href="{reverse("dialogue_detail", args=[dialogue.slug])}"' in page
    assert "Acting President, ASAN Institute for Policy Studies" in page
    assert 'label for="id_q"' in page


@pytest.mark.usefixtures("seed")
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Susan", ["Susan M. ELLIOTT", "Susan A. THORNTON"]),  # given name
        ("shin", ["SHIN Chang-sup", "SHIN Kyungmi"]),  # family name, any case
        ("Asan", ["CHOI Kang"]),  # organization then
        ("consulate", ["JEON Sung-sik", "KIM Haeyoon", "SHIN Chang-sup", "SHIN Kyungmi"]),
        ("susan thornton", ["Susan A. THORNTON"]),  # every word must match
        ("kim national", []),
        ("  ", None),  # blank: everyone
        ("nobody-like-this", []),
    ],
)
def test_search_returns_exactly_the_matching_people(client, viewer, q, expected):
    if expected is None:
        expected = [person.name for person in Person.objects.all()]
    assert listed(client, q=q) == expected


@pytest.mark.usefixtures("seed")
def test_the_consulate_search_finds_the_four_consulate_observers(client, viewer):
    consulate = Participation.objects.filter(organization__name__icontains="consulate")
    assert consulate.count() == 4
    assert {p.role for p in consulate} == {Participation.Role.OBSERVER}
    found = client.get(LIST, {"q": "consulate"}).context["page"].object_list
    assert {person.pk for person in found} == {p.person_id for p in consulate}


def test_a_person_at_several_matching_organizations_is_listed_once(client, viewer):
    person = make_person("HONG", "Gildong")
    for n in range(3):
        organization = Organization.objects.create(name=f"Korea Institute {n}")
        attend(person, make_dialogue(), organization=organization)
    assert listed(client, q="korea institute") == ["Gildong HONG"]


def test_a_search_with_sql_and_regex_syntax_is_harmless(client, viewer):
    make_person()
    for q in ["'; DROP TABLE dialogue_person; --", ".*", "[a-z]+", "%", "_", "\\"]:
        assert client.get(LIST, {"q": q}).status_code == 200
    assert Person.objects.count() == 1


def test_an_over_long_search_gets_a_400_with_the_reason(client, viewer):
    make_person()
    response = client.get(LIST, {"q": "<script>" + "x" * 200})
    assert response.status_code == 400
    page = response.content.decode()
    assert "This search could not be run" in page
    assert "at most 200 characters" in page
    assert "<script>x" not in page
    assert list(response.context["page"].object_list) == []


def test_an_empty_result_says_so_and_offers_to_clear(client, viewer):
    make_person()
    page = client.get(LIST, {"q": "nothing-like-this"}).content.decode()
    assert "No people match" in page
    assert f'href="{LIST}"' in page


def test_pagination_keeps_the_search(client, viewer):
    for n in range(55):
        make_person(f"PARK{n:02}", "Min")
    page = client.get(LIST, {"q": "park"}).content.decode()
    assert "?q=park&amp;page=2" in page
    second = client.get(LIST, {"q": "park", "page": 2}).context["page"]
    assert [person.family_name for person in second.object_list] == [
        f"PARK{n}" for n in range(50, 55)
    ]


def test_the_person_page_shows_each_dialogue_newest_first_with_role_and_title_then(client, viewer):
    person = make_person("ELLIOTT", "Susan M.", honorific="Ambassador")
    ncafp = Organization.objects.create(name="National Committee on American Foreign Policy")
    state = Organization.objects.create(name="Department of State")
    older = make_dialogue("Older dialogue", date=datetime.date(2012, 3, 1))
    newer = make_dialogue("Newer dialogue", date=datetime.date(2020, 7, 21))
    make_dialogue("Missed dialogue")
    attend(person, older, role="observer", title="Deputy Assistant Secretary", organization=state)
    attend(person, newer, title="President & CEO", organization=ncafp)

    response = client.get(person_url(person))
    page = response.content.decode()

    assert response.status_code == 200
    assert "<h1>Ambassador Susan M. ELLIOTT</h1>" in page
    attended = attendances(page)
    assert [slug for slug, _ in attended] == [newer.slug, older.slug]
    assert "Participant" in attended[0][1]
    assert "President &amp; CEO, National Committee on American Foreign Policy" in attended[0][1]
    assert "Observer" in attended[1][1]
    assert "Deputy Assistant Secretary, Department of State" in attended[1][1]
    assert "Missed dialogue" not in page


def test_the_person_page_never_links_the_person_to_passages(client, viewer):
    person = make_person("CHOI", "Kang")
    dialogue = make_dialogue()
    attend(person, dialogue)
    make_passage(dialogue, 1, "An American participant said the alliance is strong.")
    page = client.get(person_url(person)).content.decode()
    assert "alliance is strong" not in page
    assert "#passage-" not in page


def test_an_unknown_person_is_404(client, viewer):
    assert client.get(reverse("person_detail", args=[999999])).status_code == 404


def test_a_script_in_a_family_name_is_shown_escaped(client, viewer):
    person = make_person("<script>alert(1)</script>", "Eve")
    attend(person, make_dialogue("<script>alert(2)</script>"))
    for url in (LIST, person_url(person)):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page


def _fill(people: int, dialogues: int = 2) -> Person:
    """``people`` people, each at ``dialogues`` dialogues with an organization; the last."""
    organization, _ = Organization.objects.get_or_create(name="Korea Institute")
    rooms = [make_dialogue() for _ in range(dialogues)]
    for _ in range(people):
        person = make_person(f"LEE{Person.objects.count():03}", "Ha")
        for room in rooms:
            attend(person, room, title="Fellow", organization=organization)
    return person


def _queries(client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


@pytest.mark.parametrize("params", [{}, {"q": "lee korea"}, {"page": "2"}])
def test_the_list_runs_the_same_number_of_queries_at_3_and_60_people(
    client, viewer, params, django_assert_max_num_queries
):
    _fill(3)
    small = _queries(client, LIST, params)
    _fill(57, dialogues=5)
    assert Person.objects.count() == 60
    with django_assert_max_num_queries(small):
        assert client.get(LIST, params).status_code == 200


def test_the_person_page_runs_the_same_number_of_queries_at_3_and_60_dialogues(
    client, viewer, django_assert_max_num_queries
):
    person = _fill(1, dialogues=3)
    small = _queries(client, person_url(person))
    for _ in range(57):
        attend(person, make_dialogue(), title="Fellow", organization=Organization.objects.first())
    assert person.participations.count() == 60
    with django_assert_max_num_queries(small):
        assert client.get(person_url(person)).status_code == 200
