"""The seed fixture holds every item of the published report, verbatim."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from dialogue.models import Dialogue, Participation, Person
from tracker.models import Actor, Recommendation, Status
from tracker.tests.helpers import make_user

# The published report as plain text, kept in the repository beside the fixture.
SEED_TEXT = Path(settings.BASE_DIR, "fixtures", "reports", "us-rok-strategic-dialogue-2020.txt")
SEED_LINES = [
    line.strip() for line in SEED_TEXT.read_text(encoding="utf-8").splitlines() if line.strip()
]

pytestmark = pytest.mark.usefixtures("seed")

FIRST_RECOMMENDATION = (
    "The US and ROK should work on a joint vision for the alliance with an inter-agency plan to "
    "make progress toward common goals, by widening the scope of the US-ROK working group led by "
    "the State Department and the Foreign Ministry. Though it is important to focus on priorities "
    "in Northeast Asia, it is equally important to leverage the alliance relationship to address "
    "global threats and challenges, and to embed the alliance in multilateral structures."
)
LAST_RECOMMENDATION = (
    "The US can play a constructive role to mitigate ROK-Japan tensions by investing in a "
    "trilateral coordination mechanism, similar to the Trilateral Coordination and Oversight Group "
    "(TCOG) that was active in the late 1990s and early 2000s."
)
THIRD_PASSAGE = (
    "The SMA negotiations were seen as a self-inflicted wound that will continue to fester as long "
    "as it remains open. Several participants felt that it was a huge mistake to move to an annual "
    "negotiation format and proposed returning to a five-year format or even setting up a ten-year "
    "structure that included regular, reasonable adjustments for inflation."
)


def seed_dialogue() -> Dialogue:
    return Dialogue.objects.get(slug="us-rok-strategic-dialogue-2020")


def test_the_seed_has_every_item_of_the_report():
    dialogue = seed_dialogue()
    assert dialogue.questions.count() == 2
    assert dialogue.recommendations.count() == 6
    assert dialogue.passages.count() == 15
    assert dialogue.participations.filter(role="participant").count() == 11
    assert dialogue.participations.filter(role="observer").count() == 6
    assert dialogue.supporters.count() == 4


def test_the_report_metadata_is_as_printed():
    dialogue = seed_dialogue()
    report = dialogue.report
    assert report.title == "The US-ROK Alliance: Transactional or Transformational?"
    assert report.author.full_name == "Ms. Rorry DANIELS"
    assert report.published == datetime.date(2020, 7, 1)
    assert report.introduction.startswith("Despite widespread public support in both the United")
    assert report.introduction.endswith(
        "The participants were asked to address two central questions:"
    )
    assert dialogue.date == datetime.date(2020, 7, 21)
    assert dialogue.format == Dialogue.Format.VIDEO_CONFERENCE
    assert dialogue.track == Dialogue.Track.TRACK_2
    assert dialogue.convener.name == "National Committee on American Foreign Policy"
    assert dialogue.convener.short_name == "NCAFP"
    assert dialogue.series == "Forum on Asia-Pacific Security"
    assert sorted(dialogue.supporters.values_list("name", flat=True)) == [
        "Carnegie Corporation of New York",
        "Henry Luce Foundation",
        "MacArthur Foundation",
        "The Republic of Korea Ministry of Foreign Affairs",
    ]
    assert list(dialogue.questions.values_list("text", flat=True)) == [
        "What are the top priorities for communication and resolution within the US-ROK alliance?",
        "What are the top priorities for the US-ROK alliance in maintaining regional peace and "
        "stability?",
    ]


def test_recommendations_are_verbatim_and_in_order():
    texts = list(seed_dialogue().recommendations.order_by("number").values_list("text", flat=True))
    assert texts[0] == FIRST_RECOMMENDATION
    assert texts[-1] == LAST_RECOMMENDATION
    assert seed_dialogue().passages.get(number=3).text == THIRD_PASSAGE


def test_every_text_matches_a_line_of_the_published_report_in_order():
    dialogue = seed_dialogue()
    recommendations = [
        f"- {text}" for text in dialogue.recommendations.values_list("text", flat=True)
    ]
    passages = list(dialogue.passages.values_list("text", flat=True))
    questions = [f"- {text}" for text in dialogue.questions.values_list("text", flat=True)]
    for items in (recommendations, passages, questions):
        positions = [SEED_LINES.index(item) for item in items]  # ValueError if not verbatim
        assert positions == sorted(positions)
    assert dialogue.report.introduction in SEED_LINES
    assert dialogue.report.recommendations_intro in SEED_LINES


def test_participants_names_titles_and_organizations_are_as_printed():
    # Titles printed over two lines join as one; italics markers are typography.
    printed = "\n".join(SEED_LINES).replace("*", "").replace("-\n", "-").replace("\n", " ")
    for participation in Participation.objects.select_related("person", "organization"):
        person, title = participation.person, participation.title
        assert person.full_name in SEED_LINES
        assert f"{person.full_name} {title} {participation.organization.name}" in printed


def test_an_observers_title_and_organization_are_kept_as_printed():
    lee = Participation.objects.get(person__family_name="LEE")
    assert lee.role == "observer"
    assert lee.title == "Project Manager, Forum on Asia-Pacific Security"
    assert lee.organization.name == "National Committee on American Foreign Policy"
    cossa = Participation.objects.get(person__family_name="COSSA")
    assert cossa.title == "President Emeritus & WSD-Handa Chair in Peace Studies"


def test_korean_names_are_written_family_name_first():
    assert Person.objects.get(family_name="CHOI").full_name == "Dr. CHOI Kang"
    assert Person.objects.get(given_name="Jina").name == "KIM Jina"
    assert Person.objects.get(family_name="MA").full_name == "Professor MA Sang Yoon"
    assert Person.objects.get(family_name="SHAFER").full_name == "The Honorable Jeffrey R. SHAFER"


def test_people_sort_by_family_name():
    family_names = list(Person.objects.values_list("family_name", flat=True))
    assert family_names == sorted(family_names, key=str.lower)
    assert family_names[:3] == ["CHANLETT-AVERY", "CHOI", "COSSA"]


def test_lists_keep_the_printed_order():
    observers = Participation.objects.filter(role="observer").order_by("position")
    # The report prints OPPEDISANO after SHIN Chang-sup; the record keeps that.
    assert [p.person.family_name for p in observers] == [
        "JEON",
        "KIM",
        "LEE",
        "SHIN",
        "OPPEDISANO",
        "SHIN",
    ]


def test_each_recommendation_starts_not_started_and_is_linked():
    for recommendation in Recommendation.objects.all():
        assert recommendation.status.name == "Not started"
        assert recommendation.passages.exists(), recommendation
        assert recommendation.themes.exists(), recommendation
        assert recommendation.actors.exists(), recommendation
        assert recommendation.owner is None
        assert recommendation.version == 1


def test_the_vocabularies_are_seeded():
    assert list(Status.objects.values_list("name", flat=True)) == [
        "Not started",
        "Under consideration",
        "On track",
        "Limited progress",
        "Stalled",
        "Nearing implementation",
        "Implemented",
        "Reversed",
        "Not adopted",
        "Overtaken by events",
    ]
    closed = set(Status.objects.filter(is_open=False).values_list("name", flat=True))
    assert closed == {"Implemented", "Not adopted", "Overtaken by events"}
    assert all(Status.objects.values_list("definition", flat=True))
    assert set(Actor.objects.values_list("code", flat=True)) == {
        "US",
        "ROK",
        "Japan",
        "China",
        "DPRK",
    }


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_status_badges_pass_wcag_aa_contrast_with_white_text():
    for status in Status.objects.all():
        contrast = 1.05 / (_luminance(status.colour) + 0.05)
        assert contrast >= 4.5, f"{status.name} {status.colour}: {contrast:.2f}"


def test_loading_the_seed_again_keeps_the_data_and_the_edits():
    recommendation = Recommendation.objects.get(number=1)
    recommendation.title = "Edited by an editor"
    recommendation.save()
    make_user("someone")
    call_command("load_seed", verbosity=0)
    assert Recommendation.objects.get(number=1).title == "Edited by an editor"
    assert Recommendation.objects.count() == 6
