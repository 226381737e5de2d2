"""CSV and JSON exports and the review pack take the list's filters and show its rows."""

import csv
import datetime
import io
import json
import tracemalloc
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from dialogue.models import Theme
from tracker import exports, services
from tracker.models import Actor, Recommendation, Status
from tracker.tests.helpers import (
    list_all_ids,
    make_dialogue,
    make_history,
    make_recommendation,
    make_user,
)

SCHEMA = json.loads(Path(settings.BASE_DIR, "docs", "export.schema.json").read_text())
pytestmark = pytest.mark.usefixtures("seed")


@pytest.fixture
def viewer(client):
    user = make_user("vic", role="Viewer")
    client.force_login(user)
    return user


def read(response) -> bytes:
    return b"".join(response.streaming_content)


def list_ids(client, query: str) -> list[int]:
    return list_all_ids(client, f"{reverse('recommendation_list')}?{query}")


@pytest.mark.parametrize("query", ["", "status=not-started", "theme=china&sort=status", "q=SMA"])
def test_the_csv_parses_back_into_the_rows_the_list_shows(client, viewer, query):
    response = client.get(f"{reverse('export_csv')}?{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="recommendations-')
    body = read(response)
    assert body.startswith("\ufeff".encode())  # Excel reads UTF-8 only with the BOM
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [int(row["id"]) for row in rows] == list_ids(client, query)
    for row in rows:
        recommendation = Recommendation.objects.get(pk=row["id"])
        assert row["dialogue"] == recommendation.dialogue.title
        assert row["number"] == str(recommendation.number)
        assert row["title"] == recommendation.title
        assert row["text"] == recommendation.text  # verbatim, commas and quotes included
        assert row["status"] == recommendation.status.name
        assert row["themes"] == "; ".join(t.name for t in recommendation.themes.all())
        assert row["actors"] == "; ".join(a.code for a in recommendation.actors.all())
        assert row["priority"] == recommendation.get_priority_display()
        assert row["last_change"] == recommendation.updated_at.isoformat(timespec="seconds")
        assert row["version"] == str(recommendation.version)
        assert row["rationale"] == ""
        assert datetime.datetime.fromisoformat(row["status_as_of"])


def test_the_csv_shows_owner_review_date_links_and_times_of_each_row(client, viewer, vocabulary):
    owner = make_user("ana", role="Analyst")
    dialogue = make_dialogue('A "quoted", dialogue')
    linked = make_recommendation(
        dialogue,
        title="Line one\nline two, with a comma",
        text='He said "yes",\r\nthen left.',
        owner=owner,
        next_review=datetime.date(2027, 2, 3),
    )
    linked.themes.set(Theme.objects.order_by("-name")[:3])
    linked.actors.set(Actor.objects.all())
    bare = make_recommendation(dialogue)
    Recommendation.objects.filter(pk=bare.pk).update(
        updated_at=datetime.datetime(2024, 5, 1, 10, 20, 30, 999_999, tzinfo=datetime.UTC)
    )
    Recommendation.objects.filter(pk=linked.pk).update(
        updated_at=datetime.datetime(1999, 12, 31, 23, 0, 5, tzinfo=datetime.UTC)
    )
    body = read(client.get(reverse("export_csv"), {"dialogue": dialogue.slug}))
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert [row["id"] for row in rows] == [str(linked.pk), str(bare.pk)]
    first, second = rows
    linked.refresh_from_db()
    assert first["dialogue"] == second["dialogue"] == 'A "quoted", dialogue'
    assert first["title"] == "Line one\nline two, with a comma"
    assert first["text"] == 'He said "yes",\r\nthen left.'
    assert (first["owner"], second["owner"]) == ("ana", "")
    assert (first["next_review"], second["next_review"]) == ("2027-02-03", "")
    assert first["themes"] == "; ".join(t.name for t in linked.themes.order_by("name"))
    assert first["actors"] == "; ".join(a.code for a in Actor.objects.order_by("name"))
    assert (second["themes"], second["actors"]) == ("", "")
    assert first["last_change"] == "1999-12-31T23:00:05+00:00"  # no microseconds
    assert second["last_change"] == "2024-05-01T10:20:30+00:00"  # to the second, in UTC
    assert first["status_as_of"] == second["status_as_of"]


def _defused(value: str) -> str:
    return "'" + value if value.startswith(exports.FORMULA_STARTS) else value


# Any text: quotes, commas, line breaks, formula starts, and the separator that the
# CSV builder joins a column with (then it goes cell by cell).
texts = st.text(alphabet=st.characters(codec="utf-8"))


@given(st.lists(st.tuples(texts, texts), min_size=1, max_size=20))
@example([("a\x00b", '"=1"'), ("", "-")])  # the separator itself: cell by cell
@example([('"=1", x', "\r\n@"), ("\t", "plain")])
def test_text_columns_parse_back_into_the_defused_values(rows):
    first, second = (list(column) for column in zip(*rows, strict=True))
    cells = zip(exports._text_column(first), exports._text_column(second), strict=True)
    body = "\r\n".join(map(",".join, cells)) + "\r\n"
    parsed = list(csv.reader(io.StringIO(body, newline="")))
    assert parsed == [[_defused(a), _defused(b)] for a, b in rows]


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(client, viewer):
    make_recommendation(title='=HYPERLINK("http://evil")', text="+SUM(A1)")
    body = read(client.get(reverse("export_csv"))).decode("utf-8-sig")
    evil = next(row for row in csv.DictReader(io.StringIO(body)) if "HYPERLINK" in row["title"])
    assert evil["title"] == '\'=HYPERLINK("http://evil")'
    assert evil["text"] == "'+SUM(A1)"


def test_the_csv_as_of_a_date_shows_the_state_then(client, viewer):
    recommendation = Recommendation.objects.get(number=2)
    services.status_change(
        recommendation=recommendation,
        to=Status.objects.get(name="Stalled"),
        by=make_user(),
        rationale="Moved.",
    )
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.get(reverse("export_csv"), {"as_of": yesterday.isoformat()})
    rows = {
        row["id"]: row for row in csv.DictReader(io.StringIO(read(response).decode("utf-8-sig")))
    }
    assert rows[str(recommendation.pk)]["status"] == "Not started"
    assert rows[str(recommendation.pk)]["status_as_of"].startswith(yesterday.isoformat())
    assert response["X-Status-As-Of"].startswith(yesterday.isoformat())


def test_the_csv_as_of_a_date_shows_the_owner_and_review_date_then(client, viewer):
    """Even an owner whose account was deleted since (shown as nobody, not a broken file)."""
    analyst = make_user("ana", role="Analyst")
    kept, gone = make_user("carl", role="Analyst"), make_user("bob", role="Analyst")
    first, second = (
        make_recommendation(owner=owner, next_review=datetime.date(2027, 1, 1))
        for owner in (kept, gone)
    )
    for recommendation in (first, second):
        services.recommendation_change(
            recommendation=recommendation,
            by=analyst,
            owner=analyst,
            next_review=datetime.date(2028, 1, 1),
        )
    gone.delete()
    Recommendation.objects.filter(pk__in=[first.pk, second.pk]).update(
        created_at=timezone.now() - datetime.timedelta(days=3)
    )
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    for as_of, owners, review in [
        (yesterday.isoformat(), ("carl", ""), "2027-01-01"),
        ("", ("ana", "ana"), "2028-01-01"),
    ]:
        response = client.get(reverse("export_csv"), {"as_of": as_of} if as_of else {})
        body = read(response).decode("utf-8-sig")
        rows = {row["id"]: row for row in csv.DictReader(io.StringIO(body, newline=""))}
        assert (rows[str(first.pk)]["owner"], rows[str(second.pk)]["owner"]) == owners
        assert rows[str(first.pk)]["next_review"] == rows[str(second.pk)]["next_review"] == review


def test_the_json_validates_against_the_documented_shape(client, viewer):
    recommendation = Recommendation.objects.get(number=2)
    analyst = make_user("ana", role="Analyst")
    services.status_change(
        recommendation=recommendation,
        to=Status.objects.get(name="On track"),
        by=analyst,
        rationale="Agreed.",
        evidence_url="https://example.org/",
        evidence_date=datetime.date(2021, 3, 10),
    )
    services.recommendation_change(recommendation=recommendation, by=analyst, owner=analyst)
    for params in ({}, {"history": "1"}, {"history": "1", "status": "on-track"}):
        response = client.get(reverse("export_json"), params)
        assert response["Content-Type"] == "application/json; charset=utf-8"
        data = json.loads(read(response))
        jsonschema.validate(data, SCHEMA)
        assert [item["id"] for item in data["recommendations"]] == list_ids(
            client, "status=on-track" if "status" in params else ""
        )
    item = data["recommendations"][0]
    assert item["owner"] == "ana"
    assert [entry["kind"] for entry in item["history"]] == ["status", "owner"]
    assert item["history"][0]["evidence"]["date"] == "2021-03-10"
    assert data["filters"] == {"Status": "On track"}


def test_the_json_without_history_has_no_history(client, viewer):
    data = json.loads(read(client.get(reverse("export_json"))))
    assert all("history" not in item for item in data["recommendations"])


@pytest.mark.parametrize("name", ["export_csv", "export_json", "review_pack"])
def test_bad_filters_get_400_not_500(client, viewer, name):
    response = client.get(reverse(name), {"status": "nope", "as_of": "tomorrow"})
    assert response.status_code == 400
    assert "These filters could not be applied" in response.content.decode()


@pytest.mark.parametrize("name", ["export_csv", "export_json", "review_pack"])
def test_anonymous_users_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def _export_peak(client, name: str, dialogue) -> tuple[int, int]:
    response = client.get(reverse(name), {"dialogue": dialogue.slug})
    tracemalloc.start()
    size = sum(len(part) for part in response.streaming_content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return size, peak


def _fill(dialogue, first: int, last: int) -> None:
    statuses = list(Status.objects.all())
    Recommendation.objects.bulk_create(
        Recommendation(
            dialogue=dialogue,
            number=n,
            title=f"Recommendation {n}",
            text="A verbatim text of a realistic length, " * 12,
            status=statuses[n % len(statuses)],
        )
        for n in range(first, last + 1)
    )


@pytest.mark.parametrize("name", ["export_csv", "export_json"])
def test_an_export_of_10000_rows_streams_in_bounded_memory(client, viewer, name):
    dialogue = make_dialogue()
    _fill(dialogue, 1, 2_500)
    small_size, small_peak = _export_peak(client, name, dialogue)
    _fill(dialogue, 2_501, 10_000)
    size, peak = _export_peak(client, name, dialogue)
    assert size > 3.9 * small_size > 5_000_000  # four times the data went through...
    # ...a chunk at a time: the peak does not grow with the rows, and stays small.
    assert peak < 1.3 * small_peak, f"{small_peak / 1e6:.1f} MB, then {peak / 1e6:.1f} MB"
    assert peak < 8_000_000, f"{name} peaked at {peak / 1e6:.1f} MB"


@pytest.mark.parametrize("name", ["export_csv", "export_json"])
def test_an_export_writes_a_chunk_of_rows_at_a_time_in_the_same_queries(
    client, viewer, name, django_assert_max_num_queries
):
    """One write a thousand rows, not one a row (each write is a send to the client);
    and a fixed number of queries a chunk, whatever the links."""
    dialogue = make_dialogue()
    _fill(dialogue, 1, 2_500)
    for recommendation in Recommendation.objects.filter(dialogue=dialogue)[:300]:
        recommendation.themes.add(*Theme.objects.all()[:2])
    with django_assert_max_num_queries(20):
        parts = list(client.get(reverse(name), {"dialogue": dialogue.slug}).streaming_content)
    assert len(parts) <= 2_500 // exports.CHUNK + 4, len(parts)


def test_the_review_pack_groups_by_dialogue_with_the_last_update(client, viewer, vocabulary):
    other = make_dialogue("Another dialogue", date=datetime.date(2019, 1, 1))
    make_recommendation(other, number=1, title="Older item")
    recommendation = Recommendation.objects.get(number=2)
    services.status_change(
        recommendation=recommendation,
        to=Status.objects.get(name="On track"),
        by=make_user("ana", role="Analyst", first_name="Ana", last_name="Lyst"),
        rationale="The <b>11th</b> SMA closed the talks.",
        evidence_source="Joint statement",
    )
    response = client.get(reverse("review_pack"), {"theme": "burden-sharing"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Filters</dt><dd>Theme: Burden-sharing (SMA)</dd>" in page.replace("\n", "")
    assert "The &lt;b&gt;11th&lt;/b&gt; SMA closed the talks." in page
    assert "Evidence: Joint statement" in page
    assert "Older item" not in page
    everything = client.get(reverse("review_pack")).content.decode()
    assert everything.count('class="review__dialogue"') == 2
    assert everything.index("US-ROK Strategic Dialogue") < everything.index("Another dialogue")
    assert "@media print" in Path(settings.BASE_DIR, "static", "css", "app.css").read_text()


def test_the_review_pack_as_of_a_date_shows_the_update_then(client, viewer):
    recommendation = Recommendation.objects.get(number=2)
    user = make_user()
    year_ago = timezone.now() - datetime.timedelta(days=365)
    Recommendation.objects.filter(pk=recommendation.pk).update(created_at=year_ago)
    services.status_change(
        recommendation=recommendation,
        to=Status.objects.get(name="On track"),
        by=user,
        rationale="First move.",
        at=year_ago + datetime.timedelta(days=10),
    )
    services.status_change(
        recommendation=Recommendation.objects.get(pk=recommendation.pk),
        to=Status.objects.get(name="Stalled"),
        by=user,
        rationale="Second move.",
    )
    day = (year_ago + datetime.timedelta(days=20)).date().isoformat()
    page = client.get(
        reverse("review_pack"), {"as_of": day, "theme": "burden-sharing"}
    ).content.decode()
    assert "First move." in page and "Second move." not in page


def test_the_review_pack_query_count_does_not_grow(client, viewer, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.status_change(
        recommendation=Recommendation.objects.get(number=1),
        to=Status.objects.get(name="Stalled"),
        by=make_user(),
        rationale="So that the small page has a last update too.",
    )
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("review_pack"))
    dialogue = make_dialogue()
    recommendations = [make_recommendation(dialogue, number=n) for n in range(1, 80)]
    make_history(recommendations, seed=5)
    with django_assert_max_num_queries(len(small)):
        client.get(reverse("review_pack"))
