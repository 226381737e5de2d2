"""The dashboard: every number equals a direct query, and every count's link lists those rows."""

import datetime
import re
from collections import Counter
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dialogue.models import Theme
from tracker import charts, history
from tracker.dashboard import DIALOGUE_BARS
from tracker.models import Actor, Recommendation, Status
from tracker.tests.helpers import (
    list_all_ids,
    make_dialogue,
    make_history,
    make_recommendation,
    make_user,
)

URL = reverse("home")


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.fixture
def generated(vocabulary):
    """Forty recommendations in two dialogues with two and a half years of history."""
    created = timezone.now() - datetime.timedelta(days=1000)
    themes, actors = list(Theme.objects.all()), list(Actor.objects.all())
    recommendations = []
    for d in range(2):
        dialogue = make_dialogue(date=(created + datetime.timedelta(days=d * 90)).date())
        for n in range(1, 21):
            recommendation = make_recommendation(
                dialogue,
                number=n,
                created_at=created + datetime.timedelta(days=n * 11 + d * 90),
                updated_at=created + datetime.timedelta(days=n * 11 + d * 90),
            )
            recommendation.themes.add(themes[n % len(themes)], themes[(n * 3) % len(themes)])
            recommendation.actors.add(actors[n % len(actors)])
            recommendations.append(recommendation)
    make_history(recommendations, seed=3, start=created, days=980)
    return recommendations


def list_rows(client, url: str) -> set[int]:
    """The ids a list link shows, across all its pages."""
    ids = list_all_ids(client, url)
    assert len(ids) == len(set(ids)), url
    return set(ids)


def replay(recommendation, moment):
    if recommendation.created_at > moment:
        return None
    updates = list(recommendation.status_updates.order_by("at", "id"))
    state = updates[0].from_status_id if updates else recommendation.status_id
    for update in updates:
        if update.at <= moment:
            state = update.to_status_id
    return state


@pytest.mark.parametrize("days_ago", [None, 400, 45])
def test_every_dashboard_number_equals_a_direct_query_and_its_link(client, generated, days_ago):
    client.force_login(make_user(role="Viewer"))
    as_of = timezone.localdate() - datetime.timedelta(days=days_ago) if days_ago else None
    response = client.get(URL, {"as_of": as_of.isoformat()} if as_of else {})
    assert response.status_code == 200
    context = response.context
    moment = history.end_of_day(as_of) if as_of else timezone.now()
    existing = [r for r in Recommendation.objects.all() if r.created_at <= moment]
    states = {r.pk: replay(r, moment) for r in existing}

    assert context["total"] == len(existing)
    for bar in context["by_status"]:
        expected = {pk for pk, status in states.items() if status == bar.item.pk}
        assert bar.count == len(expected), bar.item
        assert list_rows(client, bar.url) == expected, bar.item
    for bar in context["by_theme"]:
        expected = {r.pk for r in existing if bar.item in r.themes.all()}
        assert (bar.count, list_rows(client, bar.url)) == (len(expected), expected)
    for bar in context["by_actor"]:
        expected = {r.pk for r in existing if bar.item in r.actors.all()}
        assert (bar.count, list_rows(client, bar.url)) == (len(expected), expected)
    assert len(context["by_dialogue"]) == 2
    for bar in context["by_dialogue"]:
        expected = {r.pk for r in existing if r.dialogue_id == bar.item.pk}
        assert (bar.count, list_rows(client, bar.url)) == (len(expected), expected)
    assert sum(bar.count for bar in context["by_owner"]) == len(existing)
    for bar in context["by_owner"]:
        assert len(list_rows(client, bar.url)) == bar.count
    statuses = {s.pk: s for s in Status.objects.all()}
    weighted = sum(statuses[s].progress for s in states.values()) / len(states)
    assert context["progress"] == round(weighted)
    for key in ("overdue", "stale", "reversed"):
        assert len(list_rows(client, context[key]["url"])) == context[key]["count"], key
        # The card's rows are the first of its list, in the list's order.
        shown = [r.pk for r in context[key]["rows"]]
        assert shown == list_all_ids(client, context[key]["url"])[: len(shown)], key
    # The stale card shows each row's last change then, as the list does.
    first = context["stale"]["rows"][0]
    changed = first.changed_then if as_of else first.updated_at
    day = timezone.localtime(changed).strftime("%-d %b %Y")
    assert f"· last change {day}</span>" in response.content.decode()


def test_overdue_stale_and_reversed_now_equal_direct_queries(client, generated):
    client.force_login(make_user(role="Viewer"))
    context = client.get(URL).context
    today = timezone.localdate()
    cutoff = timezone.now() - datetime.timedelta(days=90)
    everything = list(Recommendation.objects.select_related("status"))
    overdue = [
        r for r in everything if r.next_review and r.next_review < today and r.status.is_open
    ]
    stale = [r for r in everything if r.status.is_open and r.updated_at < cutoff]
    reversed_ = [r for r in everything if r.status.slug == "reversed"]
    assert context["overdue"]["count"] == len(overdue)
    assert context["stale"]["count"] == len(stale)
    assert context["reversed"]["count"] == len(reversed_)
    # What has waited longest first, as the list behind the card's link sorts them.
    longest = sorted(stale, key=lambda r: (r.updated_at, r.pk))
    assert [r.pk for r in context["stale"]["rows"]] == [r.pk for r in longest[:10]]
    assert "sort=unchanged" in context["stale"]["url"]


@pytest.mark.parametrize("days_ago", [None, 200])
def test_the_trend_is_the_history_at_each_month_end(client, generated, days_ago):
    client.force_login(make_user(role="Viewer"))
    as_of = timezone.localdate() - datetime.timedelta(days=days_ago or 0)
    response = client.get(URL, {"as_of": as_of.isoformat()} if days_ago else {})
    trend = response.context["trend"]
    assert len(trend.columns) == 24 and trend.columns[-1].day == as_of
    for column in trend.columns:
        moment = history.end_of_day(column.day)
        expected = Counter(
            s for r in Recommendation.objects.all() if (s := replay(r, moment)) is not None
        )
        assert {seg.status.pk: seg.count for seg in column.segments} == expected
    page = response.content.decode()
    assert '<svg class="trend"' in page and "The trend as a table" in page


def test_changed_since_lists_exactly_the_moved_items(client, generated):
    client.force_login(make_user(role="Viewer"))
    since = timezone.localdate() - datetime.timedelta(days=120)
    response = client.get(URL, {"since": since.isoformat()})
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    expected = {
        r.pk for r in Recommendation.objects.all() if r.status_updates.filter(at__gte=start)
    }
    assert response.context["changed_count"] == len(expected)
    assert {item["recommendation"].pk for item in response.context["changed"]} == expected
    assert list_rows(client, response.context["changed_url"]) == expected
    page = response.content.decode()
    assert f"{len(expected)} recommendation" in page


def test_as_of_reproduces_a_status_that_went_forwards_and_back(client, vocabulary):
    from tracker import services

    status = {s.slug: s for s in Status.objects.all()}
    user = make_user("ana", role="Analyst")
    client.force_login(user)
    rec = make_recommendation(created_at=timezone.now() - datetime.timedelta(days=400))
    for days_ago, slug in ((300, "on-track"), (200, "implemented"), (100, "reversed")):
        services.status_change(
            recommendation=Recommendation.objects.get(pk=rec.pk),
            to=status[slug],
            by=user,
            rationale=f"Now {slug}.",
            at=timezone.now() - datetime.timedelta(days=days_ago),
        )

    def shown(days_ago):
        day = timezone.localdate() - datetime.timedelta(days=days_ago)
        context = client.get(URL, {"as_of": day.isoformat()}).context
        return {bar.item.slug for bar in context["by_status"] if bar.count}

    assert shown(350) == {"not-started"}
    assert shown(250) == {"on-track"}
    assert shown(150) == {"implemented"}
    assert shown(50) == {"reversed"}
    now = client.get(URL)
    assert now.context["reversed"]["count"] == 1
    assert "Reversed: implemented or advanced, then undone" in now.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"as_of": "yesterday"},
        {"as_of": "2999-01-01"},
        {"since": "1700-01-01"},
        {"as_of": "2024-01-01", "since": "2024-06-01"},
    ],
)
def test_bad_dates_get_a_400_with_a_message(client, vocabulary, params):
    client.force_login(make_user())
    response = client.get(URL, params)
    assert response.status_code == 400
    assert "could not be shown for these dates" in response.content.decode()


@pytest.mark.usefixtures("seed")
def test_the_dashboard_shows_the_seed(client):
    client.force_login(make_user(role="Viewer"))
    page = client.get(URL).content.decode()
    assert "US-ROK Strategic Dialogue" in page
    assert re.search(r'href="/recommendations/\?status=not-started"[^>]*>6<', page)


def test_text_is_escaped(client, vocabulary):
    dialogue = make_dialogue("<script>alert(1)</script>")
    make_recommendation(dialogue, title="<img src=x onerror=alert(2)>")
    client.force_login(make_user())
    page = client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, params).status_code == 200
    return len(queries)


def test_the_trend_starts_with_the_first_recommendation(client, vocabulary):
    client.force_login(make_user(role="Viewer"))
    empty = client.get(URL)
    assert empty.context["trend"] is None and "No recommendations yet." in empty.content.decode()
    today = timezone.localdate()
    first = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)  # last month
    made = timezone.make_aware(datetime.datetime.combine(first, datetime.time(12)))
    make_recommendation(make_dialogue(), created_at=made)
    trend = client.get(URL).context["trend"]
    assert [column.day for column in trend.columns] == history.month_ends(first, today)
    assert len(trend.columns) == 2 and [column.total for column in trend.columns] == [1, 1]


def test_the_dialogue_bars_are_the_most_recent_dialogues_then(client, vocabulary):
    """A bar for each of the most recent dialogues held by the date, with their counts
    then, and a word and a link for the rest."""
    client.force_login(make_user(role="Viewer"))
    first = datetime.date(2020, 1, 1)
    dialogues = [
        make_dialogue(date=first + datetime.timedelta(days=30 * n))
        for n in range(DIALOGUE_BARS + 3)
    ]
    for n, dialogue in enumerate(dialogues):
        for number in range(1, n % 3 + 2):
            make_recommendation(
                dialogue,
                number=number,
                created_at=timezone.make_aware(
                    datetime.datetime.combine(dialogue.date, datetime.time(12))
                )
                + datetime.timedelta(days=number * 20),
            )
    response = client.get(URL)
    shown = [(bar.item, bar.count) for bar in response.context["by_dialogue"]]
    assert shown == [(d, d.recommendations.count()) for d in reversed(dialogues[3:])]
    page = response.content.decode()
    assert f"The {DIALOGUE_BARS} most recent of {DIALOGUE_BARS + 3} dialogues" in page
    assert f'href="{reverse("dialogue_list")}">All dialogues' in page

    as_of = dialogues[4].date + datetime.timedelta(days=25)  # dialogues 0 to 4 were held
    response = client.get(URL, {"as_of": as_of.isoformat()})
    moment = history.end_of_day(as_of)
    shown = [(bar.item, bar.count) for bar in response.context["by_dialogue"]]
    assert shown == [
        (d, d.recommendations.filter(created_at__lte=moment).count())
        for d in reversed(dialogues[:5])
    ]
    assert [count for _, count in shown] == [1, 1, 3, 2, 1]  # 4's second one came later
    assert "All dialogues" not in response.content.decode()


@pytest.mark.parametrize("params", [{}, {"as_of": "2025-06-30", "since": "2024-01-01"}])
def test_the_dashboard_query_count_is_the_same_at_10_and_1000(
    client, vocabulary, params, django_assert_max_num_queries
):
    client.force_login(make_user(role="Viewer"))
    start = timezone.now() - datetime.timedelta(days=900)
    dialogue = make_dialogue()
    small = [make_recommendation(dialogue, number=n, created_at=start) for n in range(1, 11)]
    make_history(small, seed=1, start=start, days=880)
    baseline = _queries(client, params)

    statuses = list(Status.objects.all())
    Recommendation.objects.bulk_create(
        Recommendation(
            dialogue=dialogue,
            number=n,
            title=f"R{n}",
            text="Text.",
            status=statuses[n % len(statuses)],
            created_at=start,
        )
        for n in range(11, 1001)
    )
    make_history(list(Recommendation.objects.filter(number__gt=950)), seed=2, start=start, days=880)
    assert Recommendation.objects.count() == 1000
    with django_assert_max_num_queries(baseline):
        page = client.get(URL, params).content.decode()
    assert '<span class="figure__value">1,000</span>' in page  # digits grouped, as in the list
    assert "<td>1,000</td></tr>" in page  # the trend table's total


def test_the_trend_axis_has_room_for_counts_of_six_digits(vocabulary):
    """The tick labels end just left of the plot: "100,000" in 11px digits (0.64 em wide
    in DejaVu Sans, the widest of the usual sans fonts) must fit in the margin."""
    statuses = list(Status.objects.all())
    trend = charts.trend_chart(
        {datetime.date(2026, 1, 31): Counter({statuses[0].pk: 100_000})}, statuses
    )
    widest = max(len(f"{value:,}") for value, _ in trend.ticks)
    assert widest == 7
    assert widest * 11 * 0.64 <= trend.left - 6


def test_healthz_answers_200_when_the_database_answers(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


def test_healthz_answers_503_when_the_database_does_not(client, db):
    with mock.patch("tracker.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "down"


@pytest.mark.usefixtures("seed")
def test_status_colours_come_from_the_vocabulary(client):
    client.force_login(make_user())
    response = client.get(reverse("status_css"))
    assert response["Content-Type"].startswith("text/css")
    css = response.content.decode()
    assert "background-color: #4b5563;" in css and "fill: #4b5563;" in css


def test_the_dashboard_is_cached_until_anything_changes(client, vocabulary):
    from tracker import services

    client.force_login(make_user(role="Analyst"))
    recommendation = make_recommendation()
    first = client.get(URL)
    assert "by_status" in first.context  # computed
    with CaptureQueriesContext(connection) as cached_queries:
        second = client.get(URL)
    assert "by_status" not in second.context  # served from the cache...
    assert second.content.split(b"<main")[1] == first.content.split(b"<main")[1]
    assert len(cached_queries) < 8  # ...in a handful of queries

    services.status_change(
        recommendation=recommendation,
        to=Status.objects.get(slug="stalled"),
        by=make_user(),
        rationale="Moved.",
    )
    third = client.get(URL)
    assert "by_status" in third.context  # the change invalidated it
    stalled = next(bar for bar in third.context["by_status"] if bar.item.slug == "stalled")
    assert stalled.count == 1
    services.note_add(recommendation=recommendation, by=make_user(), text="A note.")
    assert "added a note" in client.get(URL).content.decode()


def test_a_recommendation_deleted_in_the_admin_leaves_the_cached_dashboard(client, vocabulary):
    """The fingerprint reads no count of recommendations (it would grow with them): the
    admin's log of the deletion changes it instead."""
    editor = make_user("eddie", role="Editor", is_staff=True, is_superuser=True)
    client.force_login(editor)
    gone, keep = make_recommendation(), make_recommendation()  # the newest change stays
    assert client.get(URL).context["total"] == 2
    response = client.post(
        reverse("admin:tracker_recommendation_delete", args=[gone.pk]), {"post": "yes"}
    )
    assert response.status_code == 302 and not Recommendation.objects.filter(pk=gone.pk).exists()
    page = client.get(URL)
    assert "by_status" in page.context  # recomputed, not served from the cache
    assert page.context["total"] == 1
    assert keep.pk
