"""Bad input, by example: over-long texts, NUL bytes, search syntax, request size.

The fuzzing (``tests/test_fuzz.py``) proves "never a 500" over random input; these
cases pin down what the user is told and that nothing was written, on SQLite and on
PostgreSQL (which refuses NUL in text and checks every column's length).
"""

from html import escape
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from dialogue.import_views import ReportForm
from dialogue.models import Dialogue
from dialogue.views import PersonSearchForm
from tracker import forms as tracker_forms
from tracker.dashboard import DashboardForm
from tracker.filters import RecommendationFilter
from tracker.models import FieldChange, Note, Recommendation, Status, StatusUpdate
from tracker.tests.helpers import make_recommendation, make_user

SEED_REPORT = Path(settings.BASE_DIR, "fixtures", "reports", "us-rok-strategic-dialogue-2020.txt")
HTMX = {"HX-Request": "true"}
LIMIT = tracker_forms.TEXT_LIMIT
pytestmark = pytest.mark.usefixtures("seed")


@pytest.fixture
def rec():
    return Recommendation.objects.get(number=2)


@pytest.fixture
def analyst(client):
    user = make_user("ana", role="Analyst")
    client.force_login(user)
    return user


@pytest.fixture
def superuser(client):
    user = make_user("root", is_superuser=True, is_staff=True)
    client.force_login(user)
    return user


def history() -> tuple[int, int, int]:
    return StatusUpdate.objects.count(), FieldChange.objects.count(), Note.objects.count()


def status_form(rec, **fields) -> dict:
    other = Status.objects.exclude(pk=rec.status_id).order_by("order").first()
    return {"version": rec.version, "status": other.pk, "rationale": "Agreed.", **fields}


# Over-long text: refused with a message, nothing written -------------------------------


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        ("note", {"text": "n" * 100_000}, "at most 5000 characters (it has 100000)"),
        ("status", {"rationale": "r" * 100_000}, "at most 5000 characters (it has 100000)"),
        ("status", {"evidence_source": "s" * 1001}, "at most 1000 characters (it has 1001)"),
        (
            "status",
            {"evidence_url": "https://example.org/" + "a" * 600},
            "at most 500 characters (it has 620)",
        ),
    ],
    ids=["note", "rationale", "evidence-source", "evidence-url"],
)
def test_an_over_long_text_is_refused_with_a_message_and_nothing_is_written(
    client, analyst, rec, action, fields, message
):
    name = "recommendation_note" if action == "note" else "recommendation_status"
    data = {"version": rec.version, **fields} if action == "note" else status_form(rec, **fields)
    before = history()
    for headers in ({}, HTMX):
        response = client.post(reverse(name, args=[rec.pk]), data, headers=headers)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert history() == before
    rec.refresh_from_db()
    assert rec.version == 1


def test_the_longest_allowed_note_and_rationale_are_kept_whole(client, analyst, rec):
    client.post(reverse("recommendation_note", args=[rec.pk]), {"version": 1, "text": "n" * LIMIT})
    response = client.post(
        reverse("recommendation_status", args=[rec.pk]), status_form(rec, rationale="r" * LIMIT)
    )
    assert response.status_code == 302
    assert len(Note.objects.get().text) == LIMIT
    assert len(StatusUpdate.objects.get().rationale) == LIMIT


def _admin_change_data(client, rec) -> dict:
    """The admin change form of ``rec`` as a browser would post it back unchanged."""
    form = client.get(f"/admin/tracker/recommendation/{rec.pk}/change/").context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, list):
            data[name] = [str(getattr(item, "pk", item)) for item in value]
        elif value is not None:
            data[name] = value
    for prefix in ("status_updates", "field_changes", "notes"):
        data |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}
    return data


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rationale": "r" * 100_000}, "at most 5000 characters (it has 100000)"),
        ({"evidence_source": "s" * 1001}, "at most 1000 characters (it has 1001)"),
        ({"evidence_url": "https://example.org/" + "a" * 600}, "at most 500 characters"),
    ],
    ids=["rationale", "evidence-source", "evidence-url"],
)
def test_the_admin_refuses_an_over_long_rationale_or_evidence(
    client, superuser, rec, fields, message
):
    data = _admin_change_data(client, rec)
    data |= {"status": status_form(rec)["status"], "rationale": "Agreed.", **fields}
    response = client.post(f"/admin/tracker/recommendation/{rec.pk}/change/", data)
    assert response.status_code == 200  # the form again, with its errors
    page = response.content.decode()
    assert message in page
    assert "Give a rationale for the status change." not in page
    assert history() == (0, 0, 0)


def test_the_admin_bulk_status_change_refuses_an_over_long_rationale(client, superuser, rec):
    response = client.post(
        "/admin/tracker/recommendation/",
        {
            "action": "change_status",
            "_selected_action": [rec.pk],
            "apply": "1",
            "status": status_form(rec)["status"],
            "rationale": "r" * 100_000,
        },
    )
    assert response.status_code == 200
    assert "at most 5000 characters (it has 100000)" in response.content.decode()
    assert history() == (0, 0, 0)


def test_the_admin_refuses_an_over_long_note(client, superuser, rec):
    response = client.post(
        "/admin/tracker/note/add/", {"recommendation": rec.pk, "text": "n" * 100_000}
    )
    assert response.status_code == 200
    assert "at most 5000 characters (it has 100000)" in response.content.decode()
    assert not Note.objects.exists()


def test_a_request_over_djangos_size_limit_is_a_400(client, superuser, rec):
    data = _admin_change_data(client, rec) | {"text": "t" * (3 * 1024 * 1024)}
    response = client.post(f"/admin/tracker/recommendation/{rec.pk}/change/", data)
    assert response.status_code == 400
    rec.refresh_from_db()
    assert len(rec.text) < 10_000


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/recommendations/", "at most 200 characters (it has 201)"),
        ("/recommendations/export.csv", "at most 200 characters (it has 201)"),
        ("/review/", "at most 200 characters (it has 201)"),
        ("/people/", "at most 200 characters (it has 201)"),
    ],
)
def test_an_over_long_search_is_refused_with_a_message(client, analyst, url, message):
    response = client.get(url, {"q": "q" * 201})
    assert response.status_code == 400
    assert message in response.content.decode()


def _report(old: str, new: str) -> str:
    text = SEED_REPORT.read_text()
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "The US-ROK Alliance: Transactional or Transformational?",
            "The US-ROK Alliance " + "long " * 80,
            "The report's title is longer than 300 characters",
        ),
        (
            "By Rorry Daniels",
            "By Rorry " + "D" * 120,
            "The author's family name is longer than 100",
        ),
        (
            "Henry Luce Foundation",
            "Henry Luce Foundation " + "of Luce " * 30,
            "longer than 200 characters",
        ),
    ],
    ids=["title", "author", "supporter"],
)
def test_a_report_with_an_over_long_name_is_refused_at_the_preview(
    client, superuser, old, new, message
):
    response = client.post(reverse("report_import"), {"text": _report(old, new)})
    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert not Dialogue.objects.exclude(slug__startswith="us-rok").exists()


def test_a_participant_with_an_over_long_title_is_refused_naming_the_line(client, superuser):
    text = SEED_REPORT.read_text()
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("Dr. CHOI Kang"))
    assert lines[index + 2] == "Acting President"  # after a blank line
    lines[index + 2] += " and" + " Deputy" * 60
    response = client.post(reverse("report_import"), {"text": "\n".join(lines)})
    assert response.status_code == 400
    # The entry's first line, numbered from 1: where the editor looks for the person.
    assert f"line {index + 1}: the title is longer than 300 characters" in response.content.decode()


def test_the_import_command_says_the_same(tmp_path, db):
    from django.core.management import CommandError, call_command

    path = tmp_path / "report.txt"
    path.write_text(_report("By Rorry Daniels", "By Rorry " + "D" * 120))
    with pytest.raises(CommandError, match="family name is longer than 100"):
        call_command("import_report", str(path), verbosity=0)


# Every text field of every form has a limit -----------------------------------------

# Editorial texts kept verbatim from a report: their limit is the request's (Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB, answered with a 400: see the test above).
VERBATIM = {
    ("tracker", "recommendation", "text"),
    ("tracker", "status", "definition"),
    ("dialogue", "theme", "description"),
    ("dialogue", "passage", "text"),
    ("dialogue", "report", "introduction"),
    ("dialogue", "report", "recommendations_intro"),
    ("dialogue", "centralquestion", "text"),
}


def _text_fields(form_class, **kwargs) -> list[tuple[str, forms.Field]]:
    form = form_class(**kwargs)
    return [
        (name, field)
        for name, field in form.fields.items()
        if isinstance(field, forms.CharField) and not isinstance(field, forms.SlugField)
    ]


def test_every_text_field_of_the_apps_forms_has_a_max_length(rec):
    forms_to_check = [
        *((form, {"recommendation": rec}) for form in tracker_forms.ActionForm.__subclasses__()),
        (ReportForm, {}),
        (PersonSearchForm, {}),
        (DashboardForm, {}),
    ]
    for form_class, kwargs in forms_to_check:
        for name, field in _text_fields(form_class, **kwargs):
            assert field.max_length, f"{form_class.__name__}.{name} has no max_length"
    filterset = RecommendationFilter({}, queryset=Recommendation.objects.all())
    assert filterset.form.fields["q"].max_length == 200


def test_every_text_field_of_the_admin_forms_has_a_max_length(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    checked = 0
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        if meta.app_label not in ("tracker", "dialogue"):
            continue  # Django's own (users, groups) are Django's
        if not model_admin.has_change_permission(request):
            continue  # the immutable history: shown, never edited
        for name, field in _text_fields(model_admin.get_form(request)):
            if (meta.app_label, meta.model_name, name) in VERBATIM:
                continue
            assert field.max_length, f"admin {meta.label}.{name} has no max_length"
            checked += 1
        for inline in model_admin.get_inline_instances(request):
            if not inline.has_change_permission(request):
                continue
            formset = inline.get_formset(request)
            inline_meta = inline.model._meta
            for name, field in formset.form.base_fields.items():
                if not isinstance(field, forms.CharField) or isinstance(field, forms.SlugField):
                    continue
                if (inline_meta.app_label, inline_meta.model_name, name) in VERBATIM:
                    continue
                assert field.max_length, f"admin inline {inline_meta.label}.{name}: no max_length"
    assert checked > 20


# NUL bytes: refused by every form and filter, on PostgreSQL too ----------------------


@pytest.mark.parametrize("url", ["/recommendations/", "/recommendations/export.json", "/review/"])
def test_a_nul_byte_in_a_filter_is_a_400_naming_it(client, analyst, url):
    from tracker.filters import RecommendationFilter

    for key in ["q", "status", "theme", "actor", "owner", "dialogue", "changed_since", "as_of"]:
        response = client.get(url, QUERY_STRING=f"{key}=a%00b")
        assert response.status_code == 400, key
        label = RecommendationFilter.base_filters[key].label  # the filter as the form names it
        assert f"<li>{label}: " in response.content.decode(), key


@pytest.mark.parametrize(
    ("action", "field"),
    [("note", "text"), ("status", "rationale"), ("status", "evidence_source")],
)
def test_a_nul_byte_in_an_action_is_a_400_and_nothing_is_written(
    client, analyst, rec, action, field
):
    name = "recommendation_note" if action == "note" else "recommendation_status"
    data = status_form(rec) if action == "status" else {"version": rec.version}
    data[field] = "before\x00after"
    response = client.post(reverse(name, args=[rec.pk]), data, headers=HTMX)
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert history() == (0, 0, 0)


def test_a_nul_byte_in_a_pasted_report_or_a_person_search_is_refused(client, superuser):
    response = client.post(reverse("report_import"), {"text": "Title\x00\n"})
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert client.get("/people/", {"q": "CHOI\x00"}).status_code == 400


def test_a_nul_byte_in_the_login_form_is_a_form_error(client, db):
    response = client.post(reverse("login"), {"username": "a\x00b", "password": "p\x00"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


# Search strings with SQL or regex syntax: harmless, and literal -----------------------

NEGATIVE_SEARCHES = [
    "%",
    "_",
    "%%",
    "\\",
    ".*",
    "(",
    "[",
    "&",
    "|",
    "!",
    ":*",
    "<->",
    "'",
    '"',
    "' OR '1'='1",
    "'; DROP TABLE tracker_recommendation; --",
    "a:* & !b",
    "$1",
    "?",
]


@pytest.fixture
def searchable():
    """Two recommendations a search can tell apart, with a literal % and _ in one."""
    target = make_recommendation(
        Dialogue.objects.get(),
        title="Zebrafish plan",
        text="Spend 50% of the budget_total on the (zebrafish) programme.",
    )
    other = make_recommendation(Dialogue.objects.get(), title="Another plan", text="Nothing here.")
    return target, other


def _found(client, q: str) -> set[int]:
    response = client.get("/recommendations/", {"q": q})
    assert response.status_code == 200, q
    return {row.pk for row in response.context["page"].object_list}


def _literally_in(q: str) -> set[int]:
    """What SQLite's substring search must find: every word in a title, text or note."""
    found = set()
    for rec in Recommendation.objects.prefetch_related("notes"):
        haystack = " ".join([rec.title, rec.text, *(n.text for n in rec.notes.all())]).lower()
        if all(word.lower() in haystack for word in q.split()):
            found.add(rec.pk)
    return found


def test_search_syntax_is_taken_literally_and_never_matches_everything(client, analyst, searchable):
    everything = set(Recommendation.objects.values_list("pk", flat=True))
    for q in NEGATIVE_SEARCHES:
        found = _found(client, q)
        assert found != everything, q
        if connection.vendor == "postgresql":
            # Punctuation is no word to the full-text parser; operators are not operators.
            assert found == set(), q
        else:
            assert found == _literally_in(q), q
    assert Recommendation.objects.count() == 8  # the table is still there


def test_search_finds_words_written_with_punctuation_on_both_databases(client, analyst, searchable):
    target, other = searchable
    for q in ["zebrafish", "(zebrafish)", "50%", "budget_total", "ZEBRAFISH", "zebrafish plan"]:
        found = _found(client, q)
        assert target.pk in found and other.pk not in found, q


def test_search_syntax_with_notes_and_in_other_searches_is_harmless_too(
    client, analyst, searchable
):
    target, _ = searchable
    Note.objects.create(recommendation=target, author=analyst, text="A plain note, 10% done.")
    for q in ["%", "_", "\\", "'; DROP TABLE tracker_note; --", ":*", "10%"]:
        assert _found(client, q) in (set(), _literally_in(q)), q
        assert client.get("/recommendations/export.csv", {"q": q}).status_code == 200
        assert client.get("/people/", {"q": q}).status_code == 200
    assert _found(client, "10%") == {target.pk}  # found through the note, on both databases
