from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control, never_cache

from dialogue.models import Dialogue
from tracker.models import Recommendation, Status


@login_required
def home(request: HttpRequest) -> HttpResponse:
    dialogues = Dialogue.objects.select_related("convener", "report__author").prefetch_related(
        Prefetch(
            "recommendations",
            queryset=Recommendation.objects.select_related("status", "owner").order_by("number"),
        )
    )
    return render(request, "tracker/home.html", {"dialogues": dialogues})


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """For a load balancer: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


@login_required
@cache_control(private=True, max_age=300)
def status_css(request: HttpRequest) -> HttpResponse:
    """Badge colours for the editable status vocabulary.

    A stylesheet rather than inline styles, so the Content Security Policy can
    forbid inline styles. Colours are safe to emit: the database only accepts
    ``#rrggbb``.
    """
    return render(
        request,
        "tracker/status.css",
        {"statuses": Status.objects.only("colour")},
        content_type="text/css; charset=utf-8",
    )
