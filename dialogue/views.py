from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from dialogue.models import Dialogue, Participation, Passage
from tracker.models import Recommendation


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
