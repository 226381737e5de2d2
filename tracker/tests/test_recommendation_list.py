import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dialogue.models import Theme
from tracker import services
from tracker.models import Actor, Recommendation, Status
from tracker.tests.helpers import make_dialogue, make_recommendation, make_user

URL = reverse("recommendation_list")
pytestmark = pytest.mark.usefixtures("vocabulary")


@pytest.fixture
def analyst(client):
    user = make_user("ana", role="Analyst")
    client.force_login(user)
    return user


@pytest.fixture
def data(analyst):
    """Six recommendations in two dialogues, each differing in one filtered field."""
    status = {s.slug: s for s in Status.objects.all()}
    china, sma = Theme.objects.get(slug="china"), Theme.objects.get(slug="burden-sharing")
    us, rok = Actor.objects.get(code="US"), Actor.objects.get(code="ROK")
    other = make_user("olga", role="Analyst")
    older = make_dialogue("Older dialogue", date=datetime.date(2019, 5, 1))
    newer = make_dialogue("Newer dialogue", date=datetime.date(2021, 5, 1))
    today = timezone.localdate()
    rows = {
        "a": make_recommendation(
            newer, number=1, title="Alpha joint vision", status=status["not-started"]
        ),
        "b": make_recommendation(
            newer,
            number=2,
            title="Bravo SMA",
            status=status["stalled"],
            owner=analyst,
            next_review=today - datetime.timedelta(days=3),
        ),
        "c": make_recommendation(
            newer,
            number=3,
            title="Charlie China",
            status=status["on-track"],
            owner=other,
            next_review=today + datetime.timedelta(days=30),
        ),
        "d": make_recommendation(
            older,
            number=1,
            title="Delta deterrence",
            status=status["implemented"],
            owner=analyst,
            next_review=today - datetime.timedelta(days=10),
            text="Extended deterrence must be strengthened.",
        ),
        "e": make_recommendation(older, number=2, title="Echo", status=status["stalled"]),
        "f": make_recommendation(
            older,
            number=3,
            title="Foxtrot",
            status=status["not-started"],
            next_review=today + datetime.timedelta(days=1),
        ),
    }
    rows["b"].themes.add(sma)
    rows["c"].themes.add(china)
    rows["e"].themes.add(china, sma)
    rows["a"].actors.add(us, rok)
    rows["c"].actors.add(rok)
    services.note_add(recommendation=rows["f"], by=other, text="Watch the TCOG revival closely.")
    # Last changes, oldest to newest: f, e, d, c, b, a; then "e" changes again.
    for age, key in enumerate("abcdef"):
        Recommendation.objects.filter(pk=rows[key].pk).update(
            updated_at=timezone.now() - datetime.timedelta(days=age + 1)
        )
    Recommendation.objects.filter(pk=rows["e"].pk).update(updated_at=timezone.now())
    return {"rows": rows, "older": older, "newer": newer, "other": other}


def listed(client, **params) -> list[str]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return [r.title.split()[0][0].lower() for r in response.context["page"].object_list]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "abcdef"),
        ({"status": "stalled"}, "be"),
        ({"status": ["stalled", "implemented"]}, "bde"),
        ({"theme": "china"}, "ce"),
        ({"theme": "burden-sharing", "status": "stalled"}, "be"),
        ({"actor": "ROK"}, "ac"),
        ({"actor": "US"}, "a"),
        ({"owner": "me"}, "bd"),
        ({"owner": "nobody"}, "aef"),
        ({"owner": "olga"}, "c"),
        ({"overdue": "on"}, "b"),  # "d" is overdue by date but Implemented (closed)
        ({"q": "bravo"}, "b"),
        ({"q": "DETERRENCE strengthened"}, "d"),  # every word, in title or text
        ({"q": "tcog"}, "f"),  # found in a note
        ({"q": "nothing-like-this"}, ""),
        ({"sort": "status"}, "afcbed"),
        ({"sort": "review"}, "dbfcae"),
        ({"sort": "changed"}, "eabcdf"),
        ({"sort": "unchanged"}, "fdcbae"),
    ],
)
def test_each_filter_search_and_sort_returns_exactly_the_matching_rows(
    client, data, params, expected
):
    assert "".join(listed(client, **params)) == expected


def test_the_dialogue_filter(client, data):
    assert listed(client, dialogue=data["older"].slug) == ["d", "e", "f"]


def test_sort_by_number_puts_the_newest_dialogue_first(client, data):
    assert listed(client, sort="number") == list("abcdef")


@pytest.mark.parametrize(
    "params",
    [
        {"status": "no-such-status"},
        {"theme": "<script>alert(1)</script>"},
        {"actor": "Atlantis"},
        {"owner": "ghost"},
        {"dialogue": "nope"},
        {"sort": "-drop table"},
        {"q": "x" * 201},
    ],
)
def test_bad_filter_values_get_a_400_with_the_reason(client, data, params):
    response = client.get(URL, params)
    assert response.status_code == 400
    page = response.content.decode()
    assert "These filters could not be applied" in page
    assert "<script>alert(1)</script>" not in page
    assert response.context["page"] is None
    assert "rec-table" not in page


@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_filter_is_named_by_its_label(client, data, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    page = client.get(
        URL, {"changed_since": "yesterday", "as_of": "2999-01-01"}, headers=headers
    ).content.decode()
    assert "<li>Status moved since: Enter a valid date.</li>" in page
    assert "<li>Status as of: Give a date between 1900 and today.</li>" in page
    for export in ("export_csv", "export_json", "review_pack"):
        page = client.get(reverse(export), {"changed_since": "yesterday"}).content.decode()
        assert "<li>Status moved since: Enter a valid date.</li>" in page, export


@pytest.mark.parametrize("cursor", ["abc", "0", "-1", "99999", "1.5", "", "9" * 30])
@pytest.mark.parametrize("direction", ["after", "before"])
def test_bad_or_unknown_cursors_show_the_first_page(client, data, cursor, direction):
    first = client.get(URL).context["page"].object_list
    response = client.get(URL, {direction: cursor})
    assert response.status_code == 200
    assert response.context["page"].object_list == first
    assert not response.context["page"].has_previous()


def test_a_search_with_sql_and_regex_syntax_is_harmless(client, data):
    for q in ["'; DROP TABLE tracker_recommendation; --", ".*", "[a-z]+", "%", "_", "\\"]:
        assert client.get(URL, {"q": q}).status_code == 200
    assert Recommendation.objects.count() == 6


def test_the_filter_form_keeps_every_chosen_value(client, data):
    page = client.get(
        URL,
        {
            "theme": "china",
            "actor": "US",
            "overdue": "on",
            "changed_since": "2020-01-01",
            "as_of": "2023-05-01",
            "sort": "review",
        },
    ).content.decode()
    assert '<option value="china" selected>' in page
    assert '<option value="US" selected>' in page
    assert 'name="overdue" id="id_overdue" checked' in page
    assert 'name="stale" id="id_stale">' in page
    assert 'id="id_changed_since" value="2020-01-01"' in page
    assert 'id="id_as_of" value="2023-05-01"' in page
    assert '<option value="review" selected>' in page
    assert "{#" not in page and "{%" not in page  # no template syntax shown as text


def test_an_empty_result_says_so_and_offers_to_clear(client, data):
    page = client.get(URL, {"q": "nothing-like-this"}).content.decode()
    assert "No recommendations match these filters." in page
    assert f'href="{URL}"' in page


def test_htmx_gets_only_the_results_fragment(client, data):
    response = client.get(URL, {"status": "stalled"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="results"')
    assert "<html" not in page
    assert "Bravo SMA" in page and "Alpha joint vision" not in page


def test_filters_are_in_the_query_string_and_kept_by_pagination(client, analyst):
    dialogue = make_dialogue()
    stalled = Status.objects.get(slug="stalled")
    for number in range(1, 31):
        make_recommendation(dialogue, number=number, status=stalled)
    first = client.get(URL, {"status": "stalled", "sort": "number"})
    last_shown = first.context["page"].object_list[-1]
    assert last_shown.number == 25
    assert "30 recommendations match these filters" in first.content.decode()
    link = f"?status=stalled&amp;sort=number&amp;after={last_shown.pk}"
    assert link in first.content.decode()
    second = client.get(URL, {"status": "stalled", "sort": "number", "after": last_shown.pk})
    assert [r.number for r in second.context["page"].object_list] == list(range(26, 31))
    assert not second.context["page"].has_next()
    back = second.context["page"].previous_before
    assert f"?status=stalled&amp;sort=number&amp;before={back}" in second.content.decode()
    previous = client.get(URL, {"status": "stalled", "sort": "number", "before": back})
    assert [r.number for r in previous.context["page"].object_list] == list(range(1, 26))


def test_my_recommendations_lists_mine_due_first(client, data):
    assert listed(client, owner="me", sort="review") == ["d", "b"]
    nav = client.get(URL).content.decode()
    assert "?owner=me&amp;sort=review" in nav


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def _fill(count: int) -> None:
    statuses = list(Status.objects.all())
    themes = list(Theme.objects.all())
    actors = list(Actor.objects.all())
    owners = [make_user(role="Analyst") for _ in range(3)]
    dialogue = make_dialogue()
    for n in range(count):
        recommendation = make_recommendation(
            dialogue,
            number=n + 1,
            status=statuses[n % len(statuses)],
            owner=owners[n % 3] if n % 4 else None,
        )
        recommendation.themes.add(themes[n % len(themes)])
        recommendation.actors.add(actors[n % len(actors)])


def _queries(client, params: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "stalled", "q": "the"},
        {"after": "first"},
        {"as_of": "today", "sort": "changed", "after": "first"},
    ],
)
def test_the_list_runs_the_same_number_of_queries_at_5_and_500(
    client, analyst, params, django_assert_max_num_queries
):
    _fill(5)
    if "after" in params:
        params = {**params, "after": Recommendation.objects.order_by("id").first().pk}
    if params.get("as_of") == "today":  # sorted by the last change then, read per row
        params["as_of"] = timezone.localdate().isoformat()
    small = _queries(client, params)
    _fill(495)
    assert Recommendation.objects.count() == 500
    with django_assert_max_num_queries(small):
        client.get(URL, params)


def test_the_dialogue_filter_lists_dialogues_escaped_and_marks_the_chosen_one(client, analyst):
    evil = make_dialogue('<script>alert("x")</script>', slug="evil")
    make_recommendation(evil)
    page = client.get(URL, {"dialogue": "evil"}).content.decode()
    assert '<script>alert("x")</script>' not in page
    assert '<option value="evil" selected>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;' in page


def test_text_search_uses_the_full_text_indexes_on_postgresql(data, rf, analyst):
    from django.db import connection

    from tracker.filters import RecommendationFilter

    request = rf.get(URL)
    request.user = analyst
    with CaptureQueriesContext(connection) as searched:
        rows = RecommendationFilter(
            {"q": "bravo"}, queryset=Recommendation.objects.all(), request=request
        ).qs
    assert [r.title for r in rows] == ["Bravo SMA"]
    if connection.vendor == "postgresql":
        [notes] = searched.captured_queries  # the notes first, then the ids go in
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: force the choice
            cursor.execute(f"EXPLAIN {notes['sql']}")
            notes_plan = "\n".join(row[0] for row in cursor.fetchall())
        plan = rows.explain()
        assert "recommendation_search_idx" in plan, plan
        assert "note_search_idx" in notes_plan, notes_plan
    else:
        assert "LIKE" in str(rows.query)  # SQLite: the substring fallback


@pytest.mark.parametrize("note_ids", [0, 500])
def test_a_word_in_many_notes_is_searched_by_subquery(client, data, monkeypatch, note_ids):
    """Past NOTE_IDS matching notes, the ids are not listed in the query but read by a
    subquery; the rows found are the same."""
    from tracker import filters

    monkeypatch.setattr(filters, "NOTE_IDS", note_ids)
    assert listed(client, q="tcog") == ["f"]
    assert listed(client, q="tcog bravo") == []


def test_the_list_as_of_a_date_shows_the_review_date_then_overdue_against_that_day(client, analyst):
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    recommendation = make_recommendation(
        make_dialogue(), next_review=today - datetime.timedelta(days=2)
    )
    Recommendation.objects.filter(pk=recommendation.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=5)
    )
    recommendation.refresh_from_db()
    later = today + datetime.timedelta(days=100)
    services.recommendation_change(recommendation=recommendation, by=analyst, next_review=later)

    now = client.get(URL).content.decode()
    assert f'<time datetime="{later.isoformat()}">' in now
    assert "(overdue)" not in now
    then = client.get(URL, {"as_of": yesterday.isoformat()}).content.decode()
    past = (today - datetime.timedelta(days=2)).isoformat()
    assert f'<time datetime="{past}" class="overdue">' in then
    assert "(overdue)" in then
    assert later.isoformat() not in then


def test_the_list_as_of_a_date_shows_the_last_change_then(client, analyst):
    """The last status update or field change up to that day, or the creation."""
    now = timezone.now()
    moved, untouched = (make_recommendation(make_dialogue()) for _ in range(2))
    Recommendation.objects.filter(pk__in=[moved.pk, untouched.pk]).update(
        created_at=now - datetime.timedelta(days=400)
    )
    stalled = Status.objects.get(slug="stalled")
    moves = [(300, "status"), (200, "review"), (10, "status")]
    for days_ago, kind in moves:
        at = now - datetime.timedelta(days=days_ago)
        current = Recommendation.objects.get(pk=moved.pk)
        if kind == "status":
            to = stalled if current.status != stalled else Status.objects.exclude(pk=stalled.pk)[0]
            services.status_change(
                recommendation=current, to=to, by=analyst, rationale="Moved.", at=at
            )
        else:
            services.recommendation_change(
                recommendation=current, by=analyst, next_review=at.date(), at=at
            )

    def shown(days_ago: int | None) -> dict[int, str]:
        query = {"as_of": (now - datetime.timedelta(days=days_ago)).date()} if days_ago else {}
        page = client.get(URL, query).content.decode()
        changed = {}
        for pk in (moved.pk, untouched.pk):
            row = page[page.index(f'href="/recommendations/{pk}/"') :]
            changed[pk] = re.search(
                r'data-label="Last change">.*?<time datetime="([^"]+)"', row, re.S
            )[1]
        return changed

    def day(days_ago: int) -> str:
        return timezone.localtime(now - datetime.timedelta(days=days_ago)).date().isoformat()

    assert shown(350)[moved.pk].startswith(day(400))  # made then, not changed yet
    assert shown(250)[moved.pk].startswith(day(300))  # the status update
    assert shown(100)[moved.pk].startswith(day(200))  # the review date's change
    assert shown(100)[untouched.pk].startswith(day(400))
    Recommendation.objects.filter(pk=untouched.pk).update(updated_at=now)
    current = shown(None)
    assert current[moved.pk].startswith(day(10))
    assert current[untouched.pk].startswith(day(0))
