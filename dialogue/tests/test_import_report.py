"""manage.py import_report: the seed gives the fixture's dialogue; the genre's variations parse."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command

from dialogue.importer import ReportError, decode, parse_report
from dialogue.models import Dialogue, Organization, Participation, Person
from tracker import services as tracker_services
from tracker.models import LinkSuggestion, Recommendation, Status
from tracker.tests.helpers import make_user

SEED = Path(settings.BASE_DIR, "fixtures", "reports", "us-rok-strategic-dialogue-2020.txt")
FIXTURE = Path(settings.BASE_DIR, "fixtures", "us-rok-strategic-dialogue-2020.json")
REPORTS = Path(__file__).parent / "reports"

pytestmark = pytest.mark.usefixtures("vocabulary")


def run(*args) -> str:
    out = StringIO()
    call_command("import_report", *map(str, args), stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in ("dialogue", "tracker")
    }


def fixture_objects() -> dict[str, dict[int, dict]]:
    objects: dict[str, dict[int, dict]] = {}
    for item in json.loads(FIXTURE.read_text()):
        objects.setdefault(item["model"], {})[item["pk"]] = item["fields"]
    return objects


def test_importing_the_seed_gives_exactly_the_dialogue_in_the_fixture():
    run(SEED)
    fx = fixture_objects()
    orgs = {pk: f["name"] for pk, f in fx["dialogue.organization"].items()}
    people = fx["dialogue.person"]
    (fx_dialogue,) = fx["dialogue.dialogue"].values()
    dialogue = Dialogue.objects.get()

    for field in ("title", "slug", "series", "date", "format", "track", "location"):
        assert str(getattr(dialogue, field)) == str(fx_dialogue[field]), field
    assert dialogue.convener.name == orgs[fx_dialogue["convener"]]
    assert dialogue.convener.short_name == "NCAFP"
    assert sorted(o.name for o in dialogue.supporters.all()) == sorted(
        orgs[pk] for pk in fx_dialogue["supporters"]
    )

    (fx_report,) = fx["dialogue.report"].values()
    report = dialogue.report
    for field in ("title", "introduction", "recommendations_intro", "published"):
        assert str(getattr(report, field)) == str(fx_report[field]), field
    fx_author = people[fx_report["author"]]
    assert (report.author.given_name, report.author.family_name) == (
        fx_author["given_name"],
        fx_author["family_name"],
    )

    def texts(model, key="text"):
        return sorted((f["number"], f[key]) for f in fx[model].values())

    assert sorted(dialogue.questions.values_list("number", "text")) == texts(
        "dialogue.centralquestion"
    )
    assert sorted(dialogue.passages.values_list("number", "text")) == texts("dialogue.passage")
    assert sorted(dialogue.passages.values_list("number", "anchor")) == texts(
        "dialogue.passage", "anchor"
    )
    assert sorted(dialogue.recommendations.values_list("number", "text")) == texts(
        "tracker.recommendation"
    )
    assert set(dialogue.recommendations.values_list("status__name", flat=True)) == {"Not started"}

    expected = sorted(
        (
            f["role"],
            f["position"],
            people[f["person"]]["honorific"],
            people[f["person"]]["given_name"],
            people[f["person"]]["family_name"],
            people[f["person"]]["name_order"],
            f["title"],
            orgs[f["organization"]],
        )
        for f in fx["dialogue.participation"].values()
    )
    imported = sorted(
        (
            p.role,
            p.position,
            p.person.honorific,
            p.person.given_name,
            p.person.family_name,
            p.person.name_order,
            p.title,
            p.organization.name,
        )
        for p in Participation.objects.select_related("person", "organization")
    )
    assert imported == expected
    assert Person.objects.count() == len(people)
    assert set(Organization.objects.values_list("name", flat=True)) == set(orgs.values())


def test_a_second_import_creates_nothing_and_a_dry_run_writes_nothing():
    before = row_counts()
    out = run(SEED, "--dry-run")
    assert row_counts() == before
    assert "6 recommendations, 15 summary passages, 11 participants, 6 observers" in out
    assert "  1. The US and ROK should work on a joint vision" in out
    assert "  6. The US can play a constructive role" in out

    run(SEED)
    after_first = row_counts()
    assert "nothing created" in run(SEED)
    assert row_counts() == after_first
    assert "Already imported" in run(SEED, "--dry-run")


def test_people_and_organizations_already_present_are_reused():
    call_command("loaddata", "us-rok-strategic-dialogue-2020", verbosity=0)
    people, organizations = Person.objects.count(), Organization.objects.count()
    text = SEED.read_text().replace("JULY 21, 2020", "JULY 22, 2021")
    report = parse_report(text)
    from dialogue.services import report_import

    result = report_import(report=report)
    assert result.created
    assert Dialogue.objects.count() == 2
    assert Person.objects.count() == people
    assert Organization.objects.count() == organizations
    assert result.reused["reused_people"] == 17


def test_replace_imports_again_unless_the_dialogue_is_tracked():
    run(SEED)
    first = Dialogue.objects.get().pk
    run(SEED, "--replace")
    assert Dialogue.objects.get().pk != first
    assert Recommendation.objects.count() == 6

    recommendation = Recommendation.objects.first()
    tracker_services.status_change(
        recommendation=recommendation,
        to=Status.objects.get(name="Stalled"),
        by=make_user(),
        rationale="Tracked.",
    )
    with pytest.raises(CommandError, match="already has tracking history"):
        run(SEED, "--replace")
    assert Recommendation.objects.get(pk=recommendation.pk).status.name == "Stalled"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "trilateral-maritime-2023.txt",
            {
                "title": (
                    "Keeping the Sea Lanes Open: Trilateral Maritime Cooperation after Camp David"
                ),
                "dialogue": "Trilateral Maritime Dialogue",
                "convener": "Pacific Policy Council",
                "series": "Maritime Security Initiative",
                "format": "in_person",
                "track": "1.5",
                "counts": (2, 3, 2, 5, 0, 1),
                "people": [
                    (
                        "Admiral James T. HOLLOWAY",
                        "Former Commander, US Pacific Fleet",
                        "Pacific Policy Council",
                    ),
                    (
                        "Dr. TANAKA Aiko",
                        "Senior Fellow and Director of the Maritime Program",
                        "Institute for Ocean Policy Studies",
                    ),
                    (
                        "Ms. Helena MARSH",
                        "Director, Maritime Security Initiative",
                        "Pacific Policy Council",
                    ),
                    (
                        "General PARK Min-jun",
                        "Visiting Scholar",
                        "Korea National Defense University",
                    ),
                    (
                        "Senator Mary-Ann O'NEILL",
                        "Member, Committee on Foreign Relations",
                        "United States Senate",
                    ),
                ],
                "continued": (1, "\n\nSuch a centre should start with unclassified data"),
            },
        ),
        (
            "china-engagement-2019.txt",
            {
                "title": "Engagement Without Illusions: US-China Dialogue on Korea",
                "dialogue": "US-China Dialogue on Korea",
                "convener": "East Asia Forum",
                "series": "China Program",
                "format": "in_person",
                "track": "2",
                "counts": (2, 4, 3, 4, 1, 0),
                "people": [
                    (
                        "Professor WANG Lin",
                        "Dean, School of International Studies",
                        "Peking University",
                    ),
                    ("Mr. Thomas REED", "Senior Fellow, China Program", "East Asia Forum"),
                    (
                        "Representative John B. CARTER",
                        "Member of Congress",
                        "United States House of Representatives",
                    ),
                    (
                        "Mrs. LI Xiaomei",
                        "Research Professor",
                        "China Institute of International Studies",
                    ),
                    (
                        "Mr. ZHANG Wei",
                        "First Secretary",
                        "Embassy of the People's Republic of China",
                    ),
                ],
                "continued": None,
            },
        ),
        (
            "europe-asia-2022.txt",
            {
                "title": "Europe and the Korean Peninsula",
                "dialogue": "EU - ROK Dialogue",
                "convener": "European Institute for Asian Studies",
                "series": "Korea Forum",
                "format": "hybrid",
                "track": "1.5",
                "counts": (1, 3, 2, 4, 0, 1),
                "people": [
                    (
                        "Ms. Anna BERG",
                        "Head of the Korea Forum",
                        "European Institute for Asian Studies",
                    ),
                    (
                        "Dr. Lukas VOGEL",
                        "Research Fellow, Institute for Security and Defence Studies",
                        "University of Vienna",
                    ),
                    (
                        "The Honorable CHO Eun-ji",
                        "Member of the National Assembly",
                        "Republic of Korea National Assembly",
                    ),
                    (
                        "Mr. Pierre DUMONT",
                        "Senior Adviser to the Director for Asia and the Pacific",
                        "European External Action Service",
                    ),
                ],
                "continued": (2, "\n\nThis would need a clear legal basis"),
            },
        ),
    ],
)
def test_reports_of_the_genre_import_with_the_right_counts_and_names(name, expected):
    run(REPORTS / name)
    dialogue = Dialogue.objects.get()
    assert dialogue.report.title == expected["title"]
    assert dialogue.title == expected["dialogue"]
    assert dialogue.convener.name == expected["convener"]
    assert dialogue.series == expected["series"]
    assert (dialogue.format, dialogue.track) == (expected["format"], expected["track"])
    assert (
        dialogue.questions.count(),
        dialogue.recommendations.count(),
        dialogue.passages.count(),
        dialogue.participations.filter(role="participant").count(),
        dialogue.participations.filter(role="observer").count(),
        dialogue.supporters.count(),
    ) == expected["counts"]
    people = [
        (p.person.full_name, p.title, p.organization.name)
        for p in dialogue.participations.select_related("person", "organization").order_by(
            "-role", "position"
        )
    ]
    assert people == expected["people"]
    if expected["continued"]:
        number, tail = expected["continued"]
        assert tail in dialogue.recommendations.get(number=number).text
    assert dialogue.report.author.participations.filter(dialogue=dialogue).exists()


def test_suggested_links_follow_the_text_and_are_marked_as_suggested(client):
    run(SEED)
    sma = Recommendation.objects.get(number=2)
    assert not sma.passages.exists() and not sma.themes.exists()  # nothing linked for real
    suggested = LinkSuggestion.objects.filter(recommendation=sma)
    passages = [s.passage.number for s in suggested.filter(kind="passage")]
    assert passages[0] == 3  # the SMA paragraph
    assert suggested.filter(kind="theme", theme__slug="burden-sharing").exists()
    assert not suggested.filter(kind="actor").exists()  # its text names no one
    named = LinkSuggestion.objects.filter(recommendation__number=3, kind="actor")
    assert {s.actor.code for s in named} == {"US", "ROK", "China"}
    assert "negotiation" in suggested.get(kind="passage", passage__number=3).reason
    trilateral = LinkSuggestion.objects.filter(recommendation__number=6, kind="passage")
    assert trilateral.order_by("-score").first().passage.number == 14


def _fails(data: bytes, message: str, tmp_path) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(data)
    before = row_counts()
    with pytest.raises(CommandError, match=message):
        run(path)
    assert row_counts() == before


def test_bad_files_fail_with_a_clear_message_and_write_nothing(tmp_path):
    seed = SEED.read_bytes()
    _fails(b"", "The file is empty", tmp_path)
    _fails(b"\n\n  \n", "The file is empty", tmp_path)
    _fails(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file", tmp_path)
    _fails("caf\xe9".encode("latin-1") * 10, "not UTF-8", tmp_path)
    _fails(
        seed.replace(b"Policy Recommendations", b"Our Ideas"), "Policy Recommendations", tmp_path
    )
    truncated = seed[: seed.index(b"Research Fellow")].rstrip() + b"\n"
    _fails(
        truncated, r"line 1\d\d: expected a title and an organization after .Dr. KIM Jina", tmp_path
    )
    _fails(b"x" * 20 * 1024 * 1024, "20.0 MB", tmp_path)
    _fails(
        seed.replace(b"JULY 21, 2020", b"SOMETIME IN 2020"),
        r"line \d+: expected the dialogue's date",
        tmp_path,
    )
    _fails(seed.replace(b"By Rorry Daniels", b"Rorry Daniels"), "expected .By <author>", tmp_path)


def test_an_error_in_the_middle_of_an_import_writes_nothing(monkeypatch):
    import dialogue.services as dialogue_services

    def broken(dialogue):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(dialogue_services, "suggestions_make", broken)
    before = row_counts()
    with pytest.raises(RuntimeError):
        run(SEED)
    assert row_counts() == before


def test_the_parser_reads_names_in_both_orders():
    report = parse_report(SEED.read_text())
    names = {p.person.name: p.person.family_first for p in report.participants}
    assert names["CHOI Kang"] is True and names["Emma CHANLETT-AVERY"] is False
    with pytest.raises(ReportError):
        decode(b"\x00\x01")
