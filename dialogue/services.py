"""Writes to dialogues: importing a report."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from dialogue.importer import ParsedPerson, ParsedReport, ReportError
from dialogue.models import (
    CentralQuestion,
    Dialogue,
    Organization,
    Participation,
    Passage,
    Person,
    Report,
)
from tracker.models import Recommendation, Status
from tracker.suggestions import suggestions_make

KINDS = [
    (r"\bfoundation\b|\bfund\b|\bcorporation of\b", Organization.Kind.FOUNDATION),
    (r"\buniversity\b|\bcollege\b|\bschool\b", Organization.Kind.UNIVERSITY),
    (r"\bcongress|\bparliament|\bassembly\b|\bsenate\b|\bdiet\b", Organization.Kind.LEGISLATURE),
    (
        r"\bministry\b|\bconsulate\b|\bembassy\b|\bgovernment\b|\bdepartment of\b",
        Organization.Kind.GOVERNMENT,
    ),
    (
        r"\binstitute\b|\bcent(er|re)\b|\bforum\b|\bcommittee\b|\bcouncil\b",
        Organization.Kind.THINK_TANK,
    ),
    (r"\bgroup\b|\binc\b|\bltd\b|\bcompany\b", Organization.Kind.COMPANY),
]


@dataclass
class ImportResult:
    dialogue: Dialogue | None
    created: bool
    counts: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)


def existing_dialogue(report: ParsedReport) -> Dialogue | None:
    """The dialogue this report was imported as before: same title and date."""
    return Dialogue.objects.filter(title=report.dialogue_title, date=report.date).first()


def short_title(text: str, limit: int = 90) -> str:
    """A list title from a recommendation's first sentence, cut at a word."""
    sentence = re.split(r"(?<=[.;:])\s", text.strip(), maxsplit=1)[0].rstrip(".;:")
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;") + "…"


def _organization(name: str, stats: dict, short_name: str = "") -> Organization:
    found = Organization.objects.filter(
        Q(name__iexact=name) | (Q(short_name=short_name) if short_name else Q(pk__in=[]))
    ).first()
    if found:
        return found
    kind = next((kind for pattern, kind in KINDS if re.search(pattern, name, re.I)), "other")
    stats["new_organizations"] += 1
    return Organization.objects.create(name=name, short_name=short_name, kind=kind)


def _person(parsed: ParsedPerson, stats: dict) -> Person:
    found = Person.objects.filter(
        family_name__iexact=parsed.family_name, given_name__iexact=parsed.given_name
    ).first()
    if found:
        stats["reused_people"] += 1
        return found
    stats["new_people"] += 1
    return Person.objects.create(
        honorific=parsed.honorific,
        given_name=parsed.given_name,
        family_name=parsed.family_name,
        name_order=Person.NameOrder.FAMILY_FIRST
        if parsed.family_first
        else Person.NameOrder.GIVEN_FIRST,
    )


def _author(report: ParsedReport, people: dict[str, Person], stats: dict) -> Person:
    """The author among the participants if there ("Rorry Daniels" is "Ms. Rorry DANIELS")."""
    key = report.author.lower()
    for parsed in [*report.participants, *report.observers]:
        if parsed.person.name.lower() == key or (
            f"{parsed.person.given_name} {parsed.person.family_name}".lower() == key
        ):
            return people[parsed.person.name]
    given, _, family = report.author.rpartition(" ")
    return _person(ParsedPerson("", given, family.upper(), False), stats)


def _unique_slug(title: str, year: int) -> str:
    base = slugify(f"{title} {year}")[:110] or f"dialogue-{year}"
    slug, n = base, 2
    while Dialogue.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def report_import(*, report: ParsedReport, replace: bool = False) -> ImportResult:
    """Create the dialogue of a parsed report, with everything in it, in one transaction.

    A report already imported (same dialogue title and date) creates nothing,
    unless ``replace``: then the old dialogue goes first, which is refused when
    any of its recommendations already has a tracked history.
    """
    stats = {"new_organizations": 0, "new_people": 0, "reused_people": 0}
    with transaction.atomic():
        old = existing_dialogue(report)
        if old and not replace:
            return ImportResult(old, created=False)
        if old:
            tracked = Recommendation.objects.filter(dialogue=old).filter(
                Q(status_updates__isnull=False)
                | Q(field_changes__isnull=False)
                | Q(notes__isnull=False)
            )
            if tracked.exists():
                raise ReportError(
                    None,
                    f"“{old.title}” ({old.date:%d %B %Y}) already has tracking history; "
                    "it cannot be replaced. Correct it in the admin instead.",
                )
            Recommendation.objects.filter(dialogue=old).delete()
            old.delete()
        first_status = Status.objects.order_by("order").first()
        if first_status is None:
            raise ReportError(None, "There is no status vocabulary yet: run manage.py load_seed.")

        convener = _organization(report.convener, stats, report.convener_short)
        dialogue = Dialogue.objects.create(
            title=report.dialogue_title,
            slug=_unique_slug(report.dialogue_title, report.date.year),
            series=report.series,
            convener=convener,
            date=report.date,
            format=report.format,
            track=report.track,
        )
        dialogue.supporters.set([_organization(name, stats) for name in report.supporters])
        people: dict[str, Person] = {}
        for role_list in (report.participants, report.observers):
            for position, parsed in enumerate(role_list, start=1):
                person = _person(parsed.person, stats)
                people[parsed.person.name] = person
                if Participation.objects.filter(dialogue=dialogue, person=person).exists():
                    raise ReportError(parsed.line, f"{parsed.person.name} is listed twice")
                Participation.objects.create(
                    dialogue=dialogue,
                    person=person,
                    role=parsed.role,
                    title=parsed.title,
                    organization=_organization(parsed.organization, stats),
                    position=position,
                )
        Report.objects.create(
            dialogue=dialogue,
            title=report.title,
            author=_author(report, people, stats),
            published=report.published,
            introduction=report.introduction,
            recommendations_intro=report.recommendations_intro,
        )
        CentralQuestion.objects.bulk_create(
            CentralQuestion(dialogue=dialogue, number=n, text=text)
            for n, text in enumerate(report.questions, start=1)
        )
        Passage.objects.bulk_create(
            Passage(dialogue=dialogue, number=n, anchor=f"passage-{n}", text=text)
            for n, text in enumerate(report.passages, start=1)
        )
        now = timezone.now()
        Recommendation.objects.bulk_create(
            Recommendation(
                dialogue=dialogue,
                number=n,
                title=short_title(text),
                text=text,
                status=first_status,
                created_at=now,
                updated_at=now,
            )
            for n, text in enumerate(report.recommendations, start=1)
        )
        suggestions = suggestions_make(dialogue)

    counts = {
        "recommendations": len(report.recommendations),
        "passages": len(report.passages),
        "questions": len(report.questions),
        "participants": len(report.participants),
        "observers": len(report.observers),
        "supporters": len(report.supporters),
        "suggested links": suggestions,
    }
    return ImportResult(dialogue, created=True, counts=counts, reused=stats)
