"""Stored and reflected HTML payloads come back escaped, everywhere.

Every user-editable text (recommendation title and text, notes, rationale, evidence,
people, organizations, dialogue, report, passages, themes, actors, statuses, user
names, suggestion reasons) holds a payload behind a short tag naming its field. Every
page, htmx fragment and admin page that shows these texts must contain none of the
payloads raw, and must show each of its fields escaped (tag + escaped payload), so the
test fails if a page stops escaping, double-escapes, or stops showing the text. The
exports carry the payload as data: CSV as text/csv, JSON as valid application/json.
"""

import csv
import io
import json
from html import escape
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dialogue.models import (
    CentralQuestion,
    Dialogue,
    Organization,
    Participation,
    Passage,
    Person,
    Report,
)
from tracker import services
from tracker.models import Actor, LinkSuggestion, Note, Recommendation, Status
from tracker.tests.helpers import make_theme, make_user

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
# Must never appear in an HTML answer: a running script, an element with a handler.
FORBIDDEN = ["<script>alert(1)", "<img src=x onerror", "<img/src=x/onerror"]
HTMX = {"HX-Request": "true"}
SEED_REPORT = Path(settings.BASE_DIR, "fixtures", "reports", "us-rok-strategic-dialogue-2020.txt")

# The tag of each field; the tags are lower-case letters so no page filter changes them.
FIELDS = {
    "rectitle": "recommendation title",
    "rectext": "recommendation text",
    "notetext": "note",
    "rationale": "rationale",
    "evsource": "evidence source",
    "statname": "status name",
    "statdef": "status definition",
    "themename": "theme name",
    "actorname": "actor name",
    "ownername": "owner's name",
    "dlgtitle": "dialogue title",
    "dlgseries": "dialogue series",
    "orgname": "organization",
    "givname": "given name",
    "famname": "family name",
    "honor": "honorific",
    "ptitle": "participant title",
    "reptitle": "report title",
    "repintro": "report introduction",
    "question": "central question",
    "passtext": "passage text",
    "reason": "suggestion reason",
}


def stored(tag: str, payload: str) -> str:
    return f"{tag}{payload}"


def shown(tag: str, payload: str) -> str:
    return f"{tag}{escape(payload)}"


@pytest.fixture(params=[SCRIPT, IMG], ids=["script", "img"])
def payload(request):
    return request.param


@pytest.fixture
def world(seed, payload):
    """The seed dialogue with a payload in every text a user can edit."""
    p = payload
    editor = make_user("editor", is_superuser=True, is_staff=True)
    owner = make_user("owner", role="Analyst", first_name=stored("ownername", p))
    dialogue = Dialogue.objects.get()
    dialogue.title, dialogue.series = stored("dlgtitle", p), stored("dlgseries", p)
    dialogue.save()
    Report.objects.filter(dialogue=dialogue).update(
        title=stored("reptitle", p), introduction=stored("repintro", p)
    )
    CentralQuestion.objects.filter(dialogue=dialogue, number=1).update(text=stored("question", p))
    organization = Organization.objects.create(name=stored("orgname", p), short_name="XSS")
    person = Person.objects.create(
        honorific=stored("honor", p),
        given_name=stored("givname", p),
        family_name=stored("famname", p),
    )
    Participation.objects.create(
        dialogue=dialogue,
        person=person,
        title=stored("ptitle", p),
        organization=organization,
        position=99,
    )
    status = Status.objects.create(
        name=stored("statname", p),
        slug="xss",
        order=999,
        colour="#333333",
        progress=10,
        definition=stored("statdef", p),
    )
    theme = make_theme(stored("themename", p))
    actor = Actor.objects.create(code="XSS", name=stored("actorname", p))
    passage = Passage.objects.filter(dialogue=dialogue, number=1).get()
    passage.text = stored("passtext", p)
    passage.save()
    passage.themes.add(theme)

    rec = Recommendation.objects.get(dialogue=dialogue, number=1)
    rec.title, rec.text = stored("rectitle", p), stored("rectext", p)
    rec.save()
    rec.themes.add(theme)
    rec.actors.add(actor)
    rec.passages.add(passage)
    rec.consult.add(person)
    LinkSuggestion.objects.create(
        recommendation=rec, kind="theme", theme=make_theme(), score=0.5, reason=stored("reason", p)
    )
    services.status_change(
        recommendation=rec,
        to=status,
        by=editor,
        rationale=stored("rationale", p),
        evidence_source=stored("evsource", p),
        evidence_url="https://example.org/" + p.replace(" ", "/"),
    )
    rec.refresh_from_db()
    services.recommendation_change(recommendation=rec, by=editor, owner=owner)
    Note.objects.create(recommendation=rec, author=editor, text=stored("notetext", p))
    rec.refresh_from_db()
    return {
        "editor": editor,
        "rec": rec,
        "person": person,
        "dialogue": dialogue,
        "theme": theme,
    }


def html_of(response) -> str:
    assert response.status_code < 500
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode()


def assert_escaped(page: str, payload: str, tags: list[str], where: str) -> None:
    for raw in FORBIDDEN:
        assert raw not in page, f"{where}: {raw!r} unescaped"
    for tag in tags:
        what = FIELDS.get(tag, tag)
        assert shown(tag, payload) in page, f"{where}: the {what} is not shown escaped"
        assert shown(tag, escape(payload)) not in page, f"{where}: the {what} is escaped twice"


# The app's pages -------------------------------------------------------------------------

PAGES = {
    # path (with {rec}, {person}, {slug}) -> the fields the page shows
    "/?since=2000-01-01": [
        "rectitle",
        "rationale",
        "statname",
        "themename",
        "actorname",
        "ownername",
        "dlgtitle",
    ],
    "/recommendations/": [
        "rectitle",
        "statname",
        "themename",
        "actorname",
        "ownername",
        "dlgtitle",
    ],
    "/recommendations/?status=xss&sort=changed": ["rectitle", "statname", "ownername"],
    "/recommendations/{rec}/": [
        "rectitle",
        "rectext",
        "notetext",
        "rationale",
        "evsource",
        "statname",
        "statdef",
        "themename",
        "actorname",
        "ownername",
        "dlgtitle",
        "orgname",
        "givname",
        "famname",
        "ptitle",
        "passtext",
        "reason",
    ],
    "/dialogues/": ["dlgtitle"],
    "/dialogues/{slug}/": [
        "dlgtitle",
        "reptitle",
        "repintro",
        "question",
        "rectitle",
        "statname",
        "passtext",
        "orgname",
        "givname",
        "famname",
        "ptitle",
    ],
    "/people/": ["givname", "famname", "orgname"],
    "/people/?q=famname": ["givname", "famname", "orgname"],
    "/people/{person}/": ["givname", "famname", "ptitle", "orgname", "dlgtitle"],
    "/review/": ["rectitle", "statname", "ownername", "dlgtitle", "rationale", "evsource"],
}


def _url(path: str, world) -> str:
    return path.format(rec=world["rec"].pk, person=world["person"].pk, slug=world["dialogue"].slug)


def test_every_page_shows_stored_payloads_escaped(client, world, payload):
    client.force_login(world["editor"])
    for path, headers in [(path, headers) for path in PAGES for headers in ({}, HTMX)]:
        response = client.get(_url(path, world), headers=headers)
        assert response.status_code == 200
        page = html_of(response)
        # An htmx request to the list gets the table only: the filter form is not in it.
        tags = PAGES[path]
        if headers and path.startswith("/recommendations/"):
            tags = [tag for tag in tags if tag != "actorname"]
        assert_escaped(page, payload, tags, f"GET {path} {'htmx' if headers else ''}")


def test_the_detail_page_shows_the_payloads_to_a_viewer_too(client, world, payload):
    client.force_login(make_user(role="Viewer"))
    page = html_of(client.get(f"/recommendations/{world['rec'].pk}/"))
    assert_escaped(page, payload, ["rectitle", "notetext", "rationale", "statname"], "viewer")


def test_htmx_action_fragments_escape_what_was_just_written(client, world, payload):
    client.force_login(world["editor"])
    rec = world["rec"]
    response = client.post(
        reverse("recommendation_note", args=[rec.pk]),
        {"version": rec.version, "text": "newnote" + payload},
        headers=HTMX,
    )
    assert response.status_code == 200
    page = html_of(response)
    assert "<html" not in page
    assert_escaped(page, payload, ["newnote", "notetext", "rationale", "statname"], "note fragment")

    other = Status.objects.exclude(pk=rec.status_id).order_by("order").first()
    response = client.post(
        reverse("recommendation_status", args=[rec.pk]),
        {
            "version": rec.version,
            "status": other.pk,
            "rationale": "newrationale" + payload,
            "evidence_source": "newsource" + payload,
        },
        headers=HTMX,
    )
    assert_escaped(html_of(response), payload, ["newrationale", "newsource"], "status fragment")

    # A refused form gives back what was typed: escaped in the form's fields.
    response = client.post(
        reverse("recommendation_note", args=[rec.pk]),
        {"version": 1, "text": "stalenote" + payload},
        headers=HTMX,
    )
    assert response.status_code == 409
    assert_escaped(html_of(response), payload, ["stalenote"], "409 fragment")


# Reflected: the query string and form values come back escaped -------------------------------


REFLECTED = [
    "/recommendations/?q={p}",
    "/recommendations/?owner={p}",
    "/recommendations/?status={p}&theme={p}&actor={p}&dialogue={p}",
    "/recommendations/export.csv?owner={p}",
    "/recommendations/export.json?owner={p}",
    "/review/?owner={p}&as_of={p}",
    "/?as_of={p}&since={p}",
    "/people/?q={p}",
    "/dialogues/?page={p}",
    "/accounts/login/?next={p}",
    "/admin/tracker/recommendation/?q={p}",
    "/admin/dialogue/person/?q={p}",
]


def test_query_string_values_come_back_escaped(client, world, payload):
    client.force_login(world["editor"])
    for path in REFLECTED:
        response = client.get(path.format(p=quote(payload)))
        page = html_of(response)
        for raw in FORBIDDEN:
            assert raw not in page, f"{path}: {raw!r} unescaped"
        if response.status_code == 400 or "q=" in path:
            assert escape(payload) in page, f"{path}: the value typed is not shown back"


def test_the_login_form_gives_back_the_username_escaped(client, db, payload):
    page = html_of(client.post(reverse("login"), {"username": payload, "password": "x"}))
    for raw in FORBIDDEN:
        assert raw not in page
    assert escape(payload) in page


# Import previews --------------------------------------------------------------------------


def test_the_status_import_preview_escapes_the_file_and_the_database(client, world, payload):
    client.force_login(world["editor"])
    rec = world["rec"]
    rows = [
        ["id", "version", "status", "owner", "next_review", "rationale"],
        [rec.pk, rec.version, "On track", "owner", "", "csvrationale" + payload],
        [2, 1, "badstatus" + payload, "", "", ""],
        ["badid" + payload, 1, "On track", "", "", ""],
    ]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    upload = SimpleUploadedFile(payload + ".csv", out.getvalue().encode())
    response = client.post(reverse("status_import"), {"file": upload})
    assert response.status_code == 200
    page = html_of(response)
    assert_escaped(page, payload, ["rectitle", "statname", "badstatus", "badid"], "status import")
    # The file's name, as Django keeps it (the part after the last "/").
    assert escape((payload + ".csv").rsplit("/", 1)[-1]) in page


def test_the_report_import_preview_escapes_the_report(client, world, payload):
    client.force_login(world["editor"])
    text = SEED_REPORT.read_text()
    old_title = "The US-ROK Alliance: Transactional or Transformational?"
    old_rec = "- The US and ROK should work on a joint vision"
    text = text.replace(old_title, "importtitle " + payload).replace(
        old_rec, "- importrec " + payload + " The US and ROK should work on a joint vision"
    )
    response = client.post(reverse("report_import"), {"text": text})
    assert response.status_code == 200, response.content.decode()[-2000:]
    assert_escaped(html_of(response), payload, ["importtitle ", "importrec "], "report import")


# Exports: the payload is data, in a type no browser renders as a page ---------------------


def test_the_csv_export_carries_the_payload_as_text_csv(client, world, payload):
    client.force_login(world["editor"])
    response = client.get("/recommendations/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    assert response.get("X-Content-Type-Options") == "nosniff"
    rows = list(csv.DictReader(io.StringIO(html_of(response).lstrip("\ufeff"))))
    row = next(row for row in rows if row["id"] == str(world["rec"].pk))
    assert row["title"] == stored("rectitle", payload)
    assert row["status"] == stored("statname", payload)
    assert row["dialogue"] == stored("dlgtitle", payload)


def test_the_json_export_is_valid_json_served_as_json(client, world, payload):
    client.force_login(world["editor"])
    response = client.get("/recommendations/export.json?history=1")
    assert response["Content-Type"].startswith("application/json")
    assert "html" not in response["Content-Type"]
    assert response.get("X-Content-Type-Options") == "nosniff"
    data = json.loads(html_of(response))
    item = next(item for item in data["recommendations"] if item["id"] == world["rec"].pk)
    assert item["title"] == stored("rectitle", payload)
    assert item["text"] == stored("rectext", payload)
    assert item["dialogue"]["title"] == stored("dlgtitle", payload)
    assert item["status"]["name"] == stored("statname", payload)
    update = next(entry for entry in item["history"] if entry["kind"] == "status")
    assert update["rationale"] == stored("rationale", payload)
    assert update["evidence"]["source"] == stored("evsource", payload)
    # The filters in words echo a payload given as a filter value, still as JSON data.
    response = client.get(f"/recommendations/export.json?theme={world['theme'].slug}")
    assert json.loads(html_of(response))["filters"] == {"Theme": stored("themename", payload)}


# The admin ----------------------------------------------------------------------------------

ADMIN = {
    # model -> (how to find the object with the payload, the fields its pages show)
    "tracker.recommendation": (lambda w: w["rec"], ["rectitle", "statname", "dlgtitle"]),
    "tracker.status": (lambda w: Status.objects.get(slug="xss"), ["statname"]),
    "tracker.actor": (lambda w: Actor.objects.get(code="XSS"), ["actorname"]),
    "tracker.note": (lambda w: Note.objects.get(recommendation=w["rec"]), ["notetext"]),
    "tracker.statusupdate": (lambda w: w["rec"].status_updates.get(), ["statname"]),
    "tracker.fieldchange": (lambda w: w["rec"].field_changes.get(), ["ownername"]),
    "tracker.linksuggestion": (
        lambda w: LinkSuggestion.objects.get(recommendation=w["rec"]),
        ["reason"],
    ),
    "dialogue.dialogue": (lambda w: w["dialogue"], ["dlgtitle"]),
    "dialogue.report": (lambda w: w["dialogue"].report, ["reptitle"]),
    "dialogue.centralquestion": (
        lambda w: CentralQuestion.objects.get(dialogue=w["dialogue"], number=1),
        ["question"],
    ),
    "dialogue.person": (lambda w: w["person"], ["famname", "givname"]),
    "dialogue.organization": (lambda w: Organization.objects.get(short_name="XSS"), ["orgname"]),
    "dialogue.participation": (lambda w: w["person"].participations.get(), ["ptitle"]),
    "dialogue.passage": (lambda w: Passage.objects.get(dialogue=w["dialogue"], number=1), []),
    "dialogue.theme": (lambda w: w["theme"], ["themename"]),
    "auth.user": (lambda w: User.objects.get(username="owner"), ["ownername"]),
}
# The change forms show every field's value; these are the ones with payloads.
ADMIN_FORM_EXTRA = {
    "tracker.recommendation": ["rectext", "rationale", "evsource", "notetext"],
    "tracker.status": ["statdef"],
    "tracker.statusupdate": ["rationale", "evsource"],
    "dialogue.dialogue": ["dlgseries", "passtext", "question", "ptitle"],
    "dialogue.report": ["repintro"],
    "dialogue.person": ["honor"],
    "dialogue.passage": ["passtext"],
}


def test_the_admin_shows_stored_payloads_escaped(client, world, payload):
    """The change list and the change form of every model with a payload."""
    client.force_login(world["editor"])
    for model, (find, tags) in ADMIN.items():
        obj = find(world)
        app, name = model.split(".")
        changelist = html_of(client.get(f"/admin/{app}/{name}/"))
        assert_escaped(changelist, payload, tags, f"admin {model} list")
        change = client.get(f"/admin/{app}/{name}/{obj.pk}/change/")
        assert change.status_code == 200
        extra = ADMIN_FORM_EXTRA.get(model, [])
        assert_escaped(html_of(change), payload, tags + extra, f"admin {model} form")
