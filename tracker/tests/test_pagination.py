"""Keyset pagination of the recommendation list: every row once, in order, both ways."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tracker import pagination
from tracker.filters import SORTS
from tracker.models import Recommendation, Status
from tracker.tests.helpers import list_all_ids, make_dialogue, make_recommendation, make_user

URL = reverse("recommendation_list")
pytestmark = pytest.mark.usefixtures("vocabulary")


@pytest.fixture
def rows(client):
    """70 rows in three dialogues, two on the same day; ties in status, review date
    and update time; a third of the review dates empty."""
    client.force_login(make_user("ana", role="Analyst"))
    statuses = list(Status.objects.all())
    day = datetime.date(2021, 3, 1)
    dialogues = [
        make_dialogue(date=day),
        make_dialogue(date=day),
        make_dialogue(date=day.replace(year=2019)),
    ]
    created = []
    for n in range(70):
        created.append(
            make_recommendation(
                dialogues[n % 3],
                status=statuses[n % 2],
                next_review=None if n % 3 == 0 else day + datetime.timedelta(days=n % 4),
            )
        )
    # Ties in the last change too: ten rows share each moment.
    moment = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    for n, recommendation in enumerate(created):
        Recommendation.objects.filter(pk=recommendation.pk).update(
            updated_at=moment + datetime.timedelta(hours=n // 10)
        )
    return created


def _pages_backwards(client, sort: str, last_id: int) -> list[list[int]]:
    """The pages met walking the Previous links from the one before the last row."""
    pages = []
    response = client.get(URL, {"sort": sort, "before": last_id})
    while True:
        page = response.context["page"]
        pages.insert(0, [row.pk for row in page.object_list])
        if not page.has_previous():
            return pages
        response = client.get(URL, {"sort": sort, "before": page.previous_before})


@pytest.mark.parametrize("sort", list(SORTS))
def test_every_sort_walks_every_row_once_in_order_both_ways(client, rows, sort):
    expected = [row.pk for row in _ordered(sort)]
    url = f"{URL}?sort={sort}"
    assert list_all_ids(client, url) == expected
    first, *later = _pages_backwards(client, sort, expected[-1])
    # Walking back ends on a full first page, which may overlap the page after it.
    assert first == expected[:25]
    walked = [pk for page in later for pk in page] + [expected[-1]]
    assert walked == expected[len(expected) - len(walked) :]
    assert len(walked) <= len(expected) and all(len(page) == 25 for page in later)
    assert expected.index(later[0][0]) <= 25


def _ordered(sort: str):
    """The whole order, the same keys without any cursor."""
    return Recommendation.objects.order_by(*pagination.ordering(SORTS[sort][1]))


def test_the_order_puts_empty_review_dates_last_on_every_database(client, rows):
    ordered = list(_ordered("review"))
    dates = [row.next_review for row in ordered]
    first_empty = dates.index(None)
    assert all(d is None for d in dates[first_empty:])
    assert dates[:first_empty] == sorted(dates[:first_empty])


def test_a_filtered_walk_keeps_the_filter(client, rows):
    status = Status.objects.order_by("order").first()
    ids = list_all_ids(client, f"{URL}?status={status.slug}&sort=review")
    assert ids == [row.pk for row in _ordered("review").filter(status=status)]
    assert len(ids) == 35


def test_a_deep_page_skips_no_rows_with_offset_and_costs_one_query_more(client, rows):
    with CaptureQueriesContext(connection) as first:
        client.get(URL)
    deep = _ordered("number")[60]
    with CaptureQueriesContext(connection) as later:
        response = client.get(URL, {"after": deep.pk})
    assert len(later) == len(first) + 1  # the cursor row's sort values
    assert not any("OFFSET" in query["sql"].upper() for query in later.captured_queries)
    assert [row.pk for row in response.context["page"].object_list] == [
        row.pk for row in _ordered("number")[61:]
    ]


def test_a_row_that_moved_since_the_link_was_made_does_not_break_the_walk(client, rows):
    """The cursor is a row id: the page starts after wherever that row sorts now."""
    pivot = _ordered("status")[30]
    later = Status.objects.order_by("order").last()
    Recommendation.objects.filter(pk=pivot.pk).update(status=later)
    response = client.get(URL, {"sort": "status", "after": pivot.pk})
    assert response.status_code == 200
    ordered = [row.pk for row in _ordered("status")]
    assert [row.pk for row in response.context["page"].object_list] == ordered[
        ordered.index(pivot.pk) + 1 :
    ][:25]


def test_the_count_is_capped_and_says_so(client, rows, monkeypatch):
    page = client.get(URL).content.decode()
    assert "70 recommendations" in page
    monkeypatch.setattr(pagination, "COUNT_CAP", 50)
    response = client.get(URL)
    assert response.context["page"].count_capped
    assert "More than 50 recommendations" in response.content.decode()
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    count = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(count) == 1 and "LIMIT 51" in count[0].upper()


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("tracker_recommendation", ["status_id", "id"]),
        ("tracker_recommendation_themes", ["theme_id", "recommendation_id"]),
        ("tracker_recommendation_actors", ["actor_id", "recommendation_id"]),
    ],
)
def test_the_count_under_a_filter_has_an_index_holding_every_column_it_reads(db, table, columns):
    """The capped count under a status, theme or actor filter reads these columns only,
    so an index on exactly them answers it without the table. Whether the planner takes
    it depends on the data's size: ``manage.py explain_list`` shows it at scale, and
    ``bench/run`` keeps that table (bench/plans.md)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    assert any(index["index"] and index["columns"] == columns for index in constraints.values()), (
        constraints
    )
