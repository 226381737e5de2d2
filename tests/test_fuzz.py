"""Bad input, fuzzed: every page, filter, query parameter and form, with values nobody types.

Hypothesis draws query strings and form bodies from known field names and junk names,
with values that are valid, wrong in type, huge, negative, empty, unicode, NUL bytes,
lone surrogates, invalid UTF-8 and very long. Every request is sent as a plain request
and with ``HX-Request``. Whatever comes in, the answer is below 500 (the test client
re-raises a view's exception, so a 500 fails with its traceback), bad input writes
nothing, and what a successful write stored has no NUL byte and fits its form's limit.

Each example runs in a savepoint that is rolled back, so every example starts from the
same data. Example counts are kept moderate for a shared 2-core machine; on CI the
examples are derandomized, so a run is reproducible.
"""

import os
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from dialogue.models import Dialogue, Person
from tracker.forms import TEXT_LIMIT
from tracker.models import (
    FieldChange,
    LinkSuggestion,
    Note,
    Recommendation,
    Status,
    StatusUpdate,
)
from tracker.suggestions import suggestions_make
from tracker.tests.helpers import make_history, make_user

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,  # nothing written into the work tree
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the data is read-only or rolled back per example
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
HTMX = {"HX-Request": "true"}
SEED_REPORT = Path(
    django_settings.BASE_DIR, "fixtures", "reports", "us-rok-strategic-dialogue-2020.txt"
)

# Values that have broken web apps before: SQL and regex syntax, NUL, numbers past every
# integer type, dates past the calendar, unicode digits, direction marks, formula starts.
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\t\r\n",
    "%",
    "_",
    "%%",
    "\\",
    "'",
    '"',
    "' OR '1'='1",
    "'; DROP TABLE tracker_recommendation; --",
    ".*",
    "(",
    ")",
    "[",
    "&",
    "|",
    "!",
    ":*",
    "<->",
    "a & !b | c:*",
    "<script>alert(1)</script>",
    "-1",
    "0",
    "-0",
    "1.5",
    "1e309",
    "NaN",
    "inf",
    str(2**31),
    str(2**63),
    str(2**64),
    "9" * 400,
    "-" + "9" * 30,
    "١٢",
    "²",
    "\ufeff",
    "\u202e",
    "\ud800",
    "\udfff",
    "true",
    "on",
    "me",
    "nobody",
    "None",
    "null",
    "[]",
    "{}",
    "2024-02-30",
    "0000-00-00",
    "0001-01-01",
    "1899-12-31",
    "9999-12-31",
    "10000-01-01",
    "2020-01-01T00:00:00",
    "=cmd|' /C calc'!A0",
    "x" * 3000,
]
# Every query parameter a page reads, and a few it doesn't.
QUERY_KEYS = [
    "q",
    "status",
    "theme",
    "actor",
    "owner",
    "dialogue",
    "overdue",
    "stale",
    "changed_since",
    "as_of",
    "since",
    "sort",
    "page",
    "after",
    "before",
    "history",
    "format",
    "next",
    "e",
    "o",
    "p",
    "all",
    "_changelist_filters",
    "csrfmiddlewaretoken",
]


def _text(max_size: int = 40) -> st.SearchStrategy[str]:
    # st.characters() with no filter draws from every code point, surrogates included.
    return st.text(st.characters(), max_size=max_size)


def junk() -> st.SearchStrategy:
    """A value from a query string or a form: text, or raw bytes that may not be UTF-8."""
    return st.one_of(
        st.sampled_from(NASTY),
        _text(),
        st.integers().map(str),
        st.dates().map(str),
        st.binary(max_size=20),
        st.text(max_size=6000),
    )


def params(keys: list[str], valid: dict[str, list[str]] | None = None) -> st.SearchStrategy:
    """(name, value) pairs: known names (some twice), junk names; valid values mixed in."""
    valid = valid or {}

    def value_for(key: str) -> st.SearchStrategy:
        if key in valid:
            return st.one_of(st.sampled_from(valid[key]), junk())
        return junk()

    known = st.sampled_from(keys).flatmap(lambda key: st.tuples(st.just(key), value_for(key)))
    unknown = st.tuples(st.one_of(_text(12), st.sampled_from(NASTY[:30])), junk())
    return st.lists(st.one_of(known, known, unknown), max_size=7)


def _quote(value) -> str:
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return quote_from_bytes(raw, safe="")


def encode(pairs) -> str:
    """A query string or form body, percent-encoded by hand: the test client would refuse
    lone surrogates and could not send invalid UTF-8."""
    return "&".join(f"{_quote(key)}={_quote(value)}" for key, value in pairs)


def body(response) -> bytes:
    """The whole body; a streamed export runs its generator (and any error in it) here."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def post(client, url: str, pairs, htmx: bool):
    return client.post(
        url,
        data=encode(pairs),
        content_type="application/x-www-form-urlencoded",
        headers=HTMX if htmx else {},
    )


@contextmanager
def rolled_back():
    """Each example starts from the same data: whatever it wrote is undone."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def history_counts() -> tuple[int, int, int]:
    return StatusUpdate.objects.count(), FieldChange.objects.count(), Note.objects.count()


def expect(response, *statuses: int, what: str = "") -> None:
    if currently_in_test_context():
        event(f"answered {response.status_code}")  # --hypothesis-show-statistics: the mix
    assert response.status_code in statuses, f"{what} answered {response.status_code}"


def assert_no_server_error(response, what: str) -> None:
    if currently_in_test_context():
        event(f"answered {response.status_code}")
    assert response.status_code < 500, f"{what} answered {response.status_code}"


@pytest.fixture
def world(seed):
    """The seed dialogue with some tracking history and suggested links, and one user who
    sees every form (a superuser), so every page renders all it can."""
    recommendations = list(Recommendation.objects.order_by("number"))
    make_history(recommendations[:3], seed=7, days=400)
    suggestions_make(Dialogue.objects.get())
    user = make_user("fuzzer", is_superuser=True, is_staff=True)
    Note.objects.create(recommendation=recommendations[0], author=user, text="A note.")
    return {
        "user": user,
        "rec": recommendations[1],
        "version": Recommendation.objects.get(pk=recommendations[1].pk).version,
        "dialogue": Dialogue.objects.get(),
        "person": Person.objects.order_by("pk").first(),
        "suggestions": list(LinkSuggestion.objects.values_list("pk", flat=True)),
        "valid": {
            "status": list(Status.objects.values_list("slug", flat=True)),
            "theme": ["china", "burden-sharing-sma"],
            "actor": ["US", "ROK"],
            "owner": ["me", "nobody", "fuzzer"],
            "dialogue": [Dialogue.objects.get().slug],
            "overdue": ["on", "true", "1"],
            "stale": ["on"],
            "changed_since": ["2021-01-01"],
            "as_of": ["2022-06-30", "2020-07-21"],
            "since": ["2021-01-01"],
            "sort": ["number", "status", "review", "changed", "unchanged"],
            "page": ["1", "2", "last"],
            "after": ["1", "3"],
            "before": ["5"],
            "history": ["1"],
        },
    }


# GET: every page, every query parameter ------------------------------------------------


def _pages(world) -> list[str]:
    return [
        "/",
        "/recommendations/",
        "/recommendations/export.csv",
        "/recommendations/export.json",
        "/review/",
        f"/recommendations/{world['rec'].pk}/",
        "/dialogues/",
        f"/dialogues/{world['dialogue'].slug}/",
        "/people/",
        f"/people/{world['person'].pk}/",
        "/recommendations/import/",
        "/dialogues/import/",
        "/accounts/login/",
        "/healthz",
        "/status-colours.css",
        "/admin/",
        "/admin/tracker/recommendation/",
        "/admin/tracker/statusupdate/",
        "/admin/dialogue/dialogue/",
        "/admin/dialogue/person/",
        f"/admin/tracker/recommendation/{world['rec'].pk}/change/",
    ]


@FUZZ
@given(data=st.data())
def test_every_page_answers_any_query_string_without_a_server_error(client, world, data):
    client.force_login(world["user"])
    url = data.draw(st.sampled_from(_pages(world)), label="url")
    pairs = data.draw(params(QUERY_KEYS, world["valid"]), label="query")
    htmx = data.draw(st.booleans(), label="htmx")
    response = client.get(url, QUERY_STRING=encode(pairs), headers=HTMX if htmx else {})
    body(response)
    assert_no_server_error(response, f"GET {url}?{encode(pairs)[:300]}")


LIST_PAGES = [
    "/recommendations/",
    "/recommendations/export.csv",
    "/recommendations/export.json",
    "/review/",
]


@FUZZ
@given(data=st.data())
def test_the_list_filters_answer_200_or_400_and_a_400_says_why(client, world, data):
    """The filters of the list, the exports and the review pack: each value is good (200)
    or refused (400 naming the filter); never a guess, never a 500."""
    client.force_login(world["user"])
    url = data.draw(st.sampled_from(LIST_PAGES), label="url")
    keys = ["q", "status", "theme", "actor", "owner", "dialogue", "overdue", "stale"]
    keys += ["changed_since", "as_of", "sort", "after", "before", "history"]
    pairs = data.draw(params(keys, world["valid"]), label="query")
    htmx = data.draw(st.booleans(), label="htmx")
    response = client.get(url, QUERY_STRING=encode(pairs), headers=HTMX if htmx else {})
    content = body(response)
    expect(response, 200, 400, what=encode(pairs)[:300])
    if response.status_code == 400:
        assert response["Content-Type"].startswith("text/html")
        assert b"errorlist" in content or b"error" in content


@FUZZ
@given(pairs=params(["as_of", "since"], {"as_of": ["2022-06-30"], "since": ["2021-01-01"]}))
def test_the_dashboard_dates_are_a_day_or_a_400(client, world, pairs):
    client.force_login(world["user"])
    response = client.get("/", QUERY_STRING=encode(pairs))
    expect(response, 200, 400)


@FUZZ
@given(
    kind=st.sampled_from(["recommendations", "people", "dialogues", "admin-recommendation"]),
    number=st.one_of(st.integers(min_value=0, max_value=10**40), st.sampled_from([0, 2**63])),
)
def test_any_id_in_a_path_is_found_or_404(client, world, kind, number):
    client.force_login(world["user"])
    url = {
        "recommendations": f"/recommendations/{number}/",
        "people": f"/people/{number}/",
        "dialogues": f"/dialogues/{number}/",
        "admin-recommendation": f"/admin/tracker/recommendation/{number}/change/",
    }[kind]
    response = client.get(url)
    expect(response, 200, 302, 404)


@FUZZ
@given(slug=_text(60))
def test_any_dialogue_slug_is_found_or_404(client, world, slug):
    client.force_login(world["user"])
    response = client.get("/dialogues/" + _quote(slug) + "/")
    expect(response, 200, 301, 404)


# POST: the analyst's actions ------------------------------------------------------------

ACTIONS = {
    "status": [
        "version",
        "status",
        "rationale",
        "evidence_source",
        "evidence_url",
        "evidence_date",
    ],
    "note": ["version", "text"],
    "owner": ["version", "owner"],
    "priority": ["version", "priority"],
    "review": ["version", "next_review"],
}
URL_NAMES = {"note": "recommendation_note"}


def _action_values(world) -> dict[str, list[str]]:
    version = world["version"]
    return {
        "version": [str(version), str(version + 1), "0", "-1", str(2**70)],
        "status": [str(pk) for pk in Status.objects.values_list("pk", flat=True)],
        "rationale": ["Agreed at the summit.", "r" * TEXT_LIMIT, "r" * (TEXT_LIMIT + 1)],
        "text": ["A note.", "n" * (TEXT_LIMIT + 1), "n" * 100_000],
        "evidence_source": ["A statement."],
        "evidence_url": ["https://example.org/", "javascript:alert(1)", "https://" + "a" * 600],
        "evidence_date": ["2021-03-07", "2999-01-01", "1800-01-01"],
        "owner": ["", str(world["user"].pk), str(2**70)],
        "priority": ["1", "2", "3", "4", "-1"],
        "next_review": ["2030-01-01", "", "1999-12-31", "2101-01-01"],
    }


def _almost_valid(fields: list[str], world) -> st.SearchStrategy:
    """A form that would be accepted, with at most one field made junk: reaches the
    checks behind the first refusal, and the writes."""
    values = _action_values(world)
    good = {
        "version": str(world["version"]),
        "status": values["status"][0],
        "rationale": "Agreed.",
        "evidence_source": "",
        "evidence_url": "",
        "evidence_date": "",
        "text": "A note.",
        "owner": "",
        "priority": "1",
        "next_review": "2030-01-01",
    }

    def build(drawn):
        choices, spoiled, junk_value = drawn
        form = {name: choices.get(name, good[name]) for name in fields}
        if spoiled is not None:
            form[fields[spoiled % len(fields)]] = junk_value
        return list(form.items())

    choice = st.fixed_dictionaries(
        {}, optional={name: st.sampled_from(values[name]) for name in fields if name != "version"}
    )
    return st.tuples(choice, st.none() | st.integers(0, 10), junk()).map(build)


def _check_written() -> None:
    """What a successful action stored: no NUL byte, nothing over its form's limit."""
    for update in StatusUpdate.objects.all():
        assert "\x00" not in update.rationale + update.evidence_source + update.evidence_url
        assert len(update.rationale) <= TEXT_LIMIT and len(update.evidence_source) <= 1000
        assert len(update.evidence_url) <= 500
    for note in Note.objects.all():
        assert "\x00" not in note.text and len(note.text) <= TEXT_LIMIT


@FUZZ
@given(data=st.data())
def test_every_action_answers_any_form_without_a_server_error_or_a_half_write(client, world, data):
    client.force_login(world["user"])
    pk = world["rec"].pk
    action = data.draw(st.sampled_from(sorted(ACTIONS)), label="action")
    url = reverse(URL_NAMES.get(action, f"recommendation_{action}"), args=[pk])
    pairs = data.draw(
        st.one_of(
            params(ACTIONS[action], _action_values(world)),
            _almost_valid(ACTIONS[action], world),
        ),
        label="form",
    )
    htmx = data.draw(st.booleans(), label="htmx")
    with rolled_back():
        before = history_counts()
        response = post(client, url, pairs, htmx)
        assert_no_server_error(response, f"POST {url} {encode(pairs)[:300]}")
        version = Recommendation.objects.values_list("version", flat=True).get(pk=pk)
        if response.status_code in (400, 403, 404, 409):
            assert history_counts() == before, "a refused action wrote something"
            assert version == world["version"]
        else:
            expect(response, 200, 302)
            _check_written()
        if htmx and response.status_code in (200, 400, 409):
            assert b"<html" not in response.content, "an htmx answer is a fragment"


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_refused_action_leaves_the_version_alone(client, world, action):
    """A deterministic companion to the fuzz test: junk in every field, 400 or 409, no write."""
    client.force_login(world["user"])
    rec = world["rec"]
    url = reverse(URL_NAMES.get(action, f"recommendation_{action}"), args=[rec.pk])
    before = history_counts()
    pairs = [(name, "\x00" + "9" * 400) for name in ACTIONS[action]]
    for htmx in (False, True):
        response = post(client, url, pairs, htmx)
        expect(response, 400, 409)
    rec.refresh_from_db()
    assert history_counts() == before and rec.version == world["version"]


@FUZZ
@given(
    decision=st.sampled_from(["confirm", "remove"]),
    rec_pk=st.one_of(st.integers(min_value=0, max_value=10**30), st.just(-1)),
    suggestion=st.one_of(st.integers(min_value=0, max_value=10**30), st.just(-1)),
    pairs=params(["csrfmiddlewaretoken", "next"]),
    htmx=st.booleans(),
)
def test_suggestion_confirm_and_remove_take_any_ids(
    client, world, decision, rec_pk, suggestion, pairs, htmx
):
    client.force_login(world["user"])
    if rec_pk == -1:  # -1 stands for a real pair
        rec_pk = Recommendation.objects.get(suggestions__pk=world["suggestions"][0]).pk
    if suggestion == -1:
        suggestion = world["suggestions"][0]
    with rolled_back():
        response = post(
            client, f"/recommendations/{rec_pk}/suggestions/{suggestion}/{decision}", pairs, htmx
        )
        expect(response, 302, 404)


# POST: imports and the login form -------------------------------------------------------


def _mutated_report(lines: list[str], edits: list[tuple[int, str, str]]) -> str:
    lines = list(lines)
    for position, how, text in edits:
        index = position % (len(lines) + 1)
        if how == "insert":
            lines.insert(index, text)
        elif how == "replace" and index < len(lines):
            lines[index] = text
        elif how == "append" and index < len(lines):
            lines[index] += text
    return "\n".join(lines)


REPORT_EDITS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=400),
        st.sampled_from(["insert", "replace", "append"]),
        st.one_of(st.sampled_from(NASTY), _text(80), st.just("x" * 400)),
    ),
    max_size=4,
)


@FUZZ
@given(
    edits=REPORT_EDITS,
    pasted=st.one_of(st.none(), _text(300)),
    as_file=st.booleans(),
    replace=st.sampled_from(["", "on", "\x00"]),
)
def test_report_import_previews_and_imports_any_text_without_a_server_error(
    client, world, edits, pasted, as_file, replace
):
    """Pasted or uploaded: the seed report with lines inserted, replaced or lengthened, or
    text from nowhere. The preview is 200 or 400; a confirmed preview imports or says why."""
    client.force_login(world["user"])
    text = (
        pasted
        if pasted is not None
        else _mutated_report(SEED_REPORT.read_text().splitlines(), edits)
    )
    raw = text.encode("utf-8", "surrogatepass")
    with rolled_back():
        if as_file:
            upload = SimpleUploadedFile("report.txt", raw, content_type="text/plain")
            response = client.post(reverse("report_import"), {"file": upload})
        else:
            response = post(client, reverse("report_import"), [("text", text)], htmx=False)
        expect(response, 200, 400)
        if response.status_code == 200:
            confirm = post(
                client,
                reverse("report_import_confirm"),
                [("payload", response.context["payload"]), ("replace", replace)],
                htmx=False,
            )
            expect(confirm, 302, 400)


@FUZZ
@given(pairs=params(["payload", "replace"]), which=st.sampled_from(["report", "status"]))
def test_import_confirmations_refuse_any_forged_payload(client, world, pairs, which):
    client.force_login(world["user"])
    url = reverse("report_import_confirm" if which == "report" else "status_import_confirm")
    with rolled_back():
        before = history_counts(), Dialogue.objects.count()
        response = post(client, url, pairs, htmx=False)
        expect(response, 302, 400)
        assert (history_counts(), Dialogue.objects.count()) == before


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _upload(client, url: str, name: str, raw: bytes):
    """POST ``raw`` as the form's file named ``name``. A name with no file name in it
    ("", "/", "a/..") goes in a multipart body written here: Django's test client
    refuses to make such an upload, and a hand-made request can still send one."""
    if os.path.basename(name) not in {"", ".", ".."}:
        return client.post(url, {"file": SimpleUploadedFile(name, raw)})
    quoted = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    body = (
        (
            f'--fuzz\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + raw
        + b"\r\n--fuzz--\r\n"
    )
    return client.post(url, body, content_type="multipart/form-data; boundary=fuzz")


@FUZZ
@given(data=st.data())
def test_status_import_previews_and_applies_any_csv_without_a_server_error(client, world, data):
    """A CSV in the export's shape with any cells: valid ids, versions, statuses, owners,
    dates and rationales mixed with junk; sometimes junk columns, a junk header or bytes."""
    client.force_login(world["user"])
    recs = list(Recommendation.objects.order_by("pk").values_list("pk", "version"))
    columns = ["id", "version", "status", "owner", "next_review", "priority", "rationale"]
    columns += ["status_as_of"]
    valid = {
        "id": [str(pk) for pk, _ in recs] + ["0" + str(recs[0][0])],
        "version": [str(version) for _, version in recs],
        "status": list(Status.objects.values_list("name", flat=True)),
        "owner": ["", "fuzzer", "FUZZER"],
        "next_review": ["", "2030-01-01", "2030-02-30"],
        "priority": ["High", "Medium", "low"],
        "rationale": ["", "Agreed.", "r" * (TEXT_LIMIT + 1), "'=SUM(A1)"],
        "status_as_of": ["", "2020-01-01T00:00:00", "2999-01-01T00:00:00+00:00", "junk"],
    }
    header = data.draw(
        st.one_of(st.just(columns), st.permutations(columns), st.lists(_text(10), max_size=5)),
        label="header",
    )
    cell = {
        name: st.one_of(
            st.sampled_from(valid.get(name, [""])),
            junk().filter(lambda value: isinstance(value, str)),
        )
        for name in set(header)
    }

    def near_valid(drawn) -> tuple:
        # A row that would apply (its id's own version, a known status...), maybe one junk cell.
        (pk, version), status, spoiled, junk_value = drawn
        good = {"id": str(pk), "version": str(version), "status": status, "owner": "fuzzer"}
        good |= {"next_review": "2031-05-01", "priority": "High", "rationale": "Agreed."}
        good["status_as_of"] = ""
        row = [good.get(name, "") for name in header]
        if spoiled is not None and row:
            row[spoiled % len(row)] = junk_value
        return tuple(row)

    near_valid_row = st.tuples(
        st.sampled_from(recs),
        st.sampled_from(valid["status"]),
        st.none() | st.integers(0, 10),
        junk().filter(lambda value: isinstance(value, str)),
    ).map(near_valid)
    any_row = st.tuples(*(cell[name] for name in header)) if header else st.just(())
    rows = data.draw(
        st.lists(st.one_of(any_row, near_valid_row), max_size=5),
        label="rows",
    )
    text = "\n".join(",".join(_csv_cell(value) for value in row) for row in [header, *rows])
    raw = data.draw(
        st.one_of(
            st.just(text.encode("utf-8", "surrogatepass")),
            st.just(("\ufeff" + text.replace(",", ";")).encode("utf-8", "surrogatepass")),
            st.binary(max_size=200),
        ),
        label="file",
    )
    with rolled_back():
        before = history_counts()
        # Any name a browser can send: one in UTF-8 (the test client cannot send a lone surrogate).
        name = data.draw(st.text(st.characters(codec="utf-8"), max_size=30), label="filename")
        response = _upload(client, reverse("status_import"), name, raw)
        expect(response, 200, 400)
        assert history_counts() == before, "the preview wrote something"
        payload = response.context.get("payload") if response.context else None
        if payload:
            confirm = post(client, reverse("status_import_confirm"), [("payload", payload)], False)
            expect(confirm, 302, 400, 409)
            if confirm.status_code == 302:
                _check_written()
            else:
                assert history_counts() == before


@FUZZ
@given(
    pairs=params(
        ["username", "password", "next"],
        {"username": ["fuzzer"], "password": ["pw-fuzzer"], "next": ["/", "//evil.example"]},
    ),
    htmx=st.booleans(),
)
def test_the_login_form_answers_any_input_without_a_server_error(client, world, pairs, htmx):
    with rolled_back():
        response = post(client, reverse("login"), pairs, htmx)
        expect(response, 200, 302, 400, 403, 429)


def test_a_post_without_its_csrf_token_is_refused_not_an_error(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world["user"])
    rec = world["rec"]
    for url in [
        reverse("recommendation_note", args=[rec.pk]),
        reverse("recommendation_status", args=[rec.pk]),
        reverse("status_import"),
        reverse("report_import"),
        reverse("login"),
    ]:
        response = client.post(
            url,
            data=encode([("text", "\x00"), ("version", "x")]),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 403, url


def test_an_upload_whose_name_holds_no_file_name_is_refused_with_a_reason(client, world):
    """Django drops such a file part, so the form has no file: a 400 that says so."""
    client.force_login(world["user"])
    for name in ("", "/", "a/..", '"/'):
        response = _upload(client, reverse("status_import"), name, b'"id","version"\r\n')
        assert response.status_code == 400, name
        assert "Choose a CSV file to upload." in response.content.decode(), name
