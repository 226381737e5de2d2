from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from dialogue.models import Dialogue, Participation, Passage, Person
from tracker.models import Recommendation

DIALOGUES_PER_PAGE = 25
PEOPLE_PER_PAGE = 50


class PersonSearchForm(forms.Form):
    q = forms.CharField(label="Search people", max_length=200, required=False)


def _attendances() -> QuerySet[Participation]:
    """A person's participations, newest dialogue first, with what a list shows of each."""
    return Participation.objects.select_related("dialogue", "organization").order_by(
        "-dialogue__date", "dialogue__title", "dialogue_id"
    )


def _people_matching(q: str) -> QuerySet[Person]:
    """People in family-name order whose names or organizations match every word of ``q``."""
    people = Person.objects.prefetch_related(Prefetch("participations", queryset=_attendances()))
    for word in q.split():
        # Exists, not a join, so a person at several matching organizations is listed once.
        at_matching_organization = Exists(
            Participation.objects.filter(person=OuterRef("pk"), organization__name__icontains=word)
        )
        people = people.filter(
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(at_matching_organization)
        )
    return people


@login_required
def dialogue_list(request: HttpRequest) -> HttpResponse:
    role = Participation.Role
    dialogues = (
        Dialogue.objects.select_related("convener", "report__author")
        .annotate(
            recommendation_count=Count("recommendations", distinct=True),
            participant_count=Count(
                "participations", filter=Q(participations__role=role.PARTICIPANT), distinct=True
            ),
            observer_count=Count(
                "participations", filter=Q(participations__role=role.OBSERVER), distinct=True
            ),
        )
        .order_by("-date", "title", "pk")
    )
    page = Paginator(dialogues, DIALOGUES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "dialogue/dialogue_list.html", {"page": page})


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    form = PersonSearchForm(request.GET)
    valid = form.is_valid()
    q = form.cleaned_data["q"] if valid else ""
    people = _people_matching(q) if valid else Person.objects.none()
    page = Paginator(people, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dialogue/person_list.html",
        {"form": form, "q": q, "page": page},
        status=200 if valid else 400,
    )


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Who attended what. Never links the person to passages (Chatham House rule)."""
    person = get_object_or_404(
        Person.objects.prefetch_related(Prefetch("participations", queryset=_attendances())),
        pk=pk,
    )
    return render(request, "dialogue/person_detail.html", {"person": person})


@login_required
def dialogue_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The report as a readable page; each passage is linkable and lists who cites it."""
    dialogue = get_object_or_404(
        Dialogue.objects.select_related("convener", "report__author").prefetch_related(
            "questions",
            "supporters",
            Prefetch(
                "recommendations",
                queryset=Recommendation.objects.select_related("status").order_by("number"),
            ),
            Prefetch(
                "passages",
                queryset=Passage.objects.order_by("number").prefetch_related(
                    Prefetch("recommendations", queryset=Recommendation.objects.order_by("number")),
                    "themes",
                ),
            ),
            Prefetch(
                "participations",
                queryset=Participation.objects.select_related("person", "organization").order_by(
                    "position"
                ),
            ),
        ),
        slug=slug,
    )
    participations = list(dialogue.participations.all())
    return render(
        request,
        "dialogue/dialogue_detail.html",
        {
            "dialogue": dialogue,
            "participants": [p for p in participations if p.role == Participation.Role.PARTICIPANT],
            "observers": [p for p in participations if p.role == Participation.Role.OBSERVER],
        },
    )
