from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dialogue.models import Dialogue
from tracker.tests.helpers import make_dialogue, make_recommendation, make_user

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.usefixtures("seed")
def test_the_home_page_shows_the_seed_dialogue_and_its_recommendations(client):
    client.force_login(make_user(role="Viewer"))
    page = client.get(reverse("home")).content.decode()
    assert "US-ROK Strategic Dialogue" in page
    assert "The US-ROK Alliance: Transactional or Transformational?" in page
    assert "Rorry DANIELS" in page
    assert page.count('class="rec-list__item"') == 6
    assert (
        "The Special Measures Agreement (SMA) negotiations must close as soon as possible." in page
    )
    assert "Not started" in page


def test_text_is_escaped(client):
    make_recommendation(title="<script>alert(1)</script>")
    client.force_login(make_user())
    page = client.get(reverse("home")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    return len(queries)


def test_the_home_page_query_count_does_not_grow_with_the_data(
    client, django_assert_max_num_queries
):
    client.force_login(make_user(role="Viewer"))
    owner = make_user()
    for _ in range(2):
        dialogue = make_dialogue()
        for _ in range(3):
            make_recommendation(dialogue, owner=owner)
    small = _home_queries(client)

    for _ in range(20):
        dialogue = make_dialogue()
        for _ in range(10):
            make_recommendation(dialogue, owner=make_user())
    assert Dialogue.objects.count() == 22
    with django_assert_max_num_queries(small):
        client.get(reverse("home"))


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


def test_healthz_answers_503_when_the_database_does_not(client):
    with mock.patch("tracker.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "down"


@pytest.mark.usefixtures("seed")
def test_status_colours_come_from_the_vocabulary(client):
    client.force_login(make_user())
    response = client.get(reverse("status_css"))
    assert response["Content-Type"].startswith("text/css")
    assert "background-color: #4b5563;" in response.content.decode()
