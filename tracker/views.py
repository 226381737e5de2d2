from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_POST

from dialogue.models import Dialogue, Passage, Theme
from tracker import forms, services
from tracker.filters import SORTS, RecommendationFilter, ShownState, filter_rows, trackers
from tracker.models import Actor, FieldChange, LinkSuggestion, Recommendation, Status, StatusUpdate
from tracker.pagination import keyset_page
from tracker.suggestions import suggestion_confirm

PAGE_SIZE = 25
DETAIL = "tracker/recommendation_detail.html"


def _show_state(rows: list[Recommendation], filterset: RecommendationFilter) -> None:
    """Set ``shown_status``, ``shown_owner``, ``shown_review`` (a date or None),
    ``shown_overdue`` and ``shown_changed``: now, or as of the filter's date (overdue
    then against that day, and the last change up to then)."""
    state = ShownState(filterset)
    state.load_owners(rows)
    day = filterset.as_of_day or timezone.localdate()
    for row in rows:
        # As of a date the rows carry their last change then (RecommendationFilter.annotations).
        row.shown_changed = row.changed_then if filterset.as_of_moment else row.updated_at
        row.shown_status, row.shown_owner = state.status(row), state.owner(row)
        review = state.next_review(row)
        row.shown_review = date.fromisoformat(review) if review else None
        row.shown_overdue = bool(
            row.shown_review and row.shown_review < day and row.shown_status.is_open
        )


def _dialogue_options(chosen: str) -> str:
    """The dialogue filter's <option>s, escaped, newest first. Plain string joins:
    format_html per option costs tens of milliseconds over a thousand dialogues."""
    return mark_safe(  # noqa: S308 - every value below is escaped
        "".join(
            f'<option value="{escape(slug)}"{" selected" if slug == chosen else ""}>'
            f"{escape(title)} ({date.year})</option>"
            for slug, title, date in Dialogue.objects.order_by("-date", "id").values_list(
                "slug", "title", "date"
            )
        )
    )


@login_required
def recommendation_list(request: HttpRequest) -> HttpResponse:
    filterset, rows = filter_rows(request.GET, Recommendation.objects.with_list_data(), request)
    if rows is None:
        page = None
    else:
        page = keyset_page(rows, filterset.sort_keys, request.GET, PAGE_SIZE, filterset.annotations)
        _show_state(page.object_list, filterset)
    context = {
        "filterset": filterset,
        "page": page,
        "statuses": Status.objects.all(),
        "themes": Theme.objects.order_by("name").only("slug", "name"),
        "actors": Actor.objects.order_by("name"),
        "sorts": [(key, label) for key, (label, _) in SORTS.items()],
        "trackers": trackers(),
        "dialogue_options": _dialogue_options(request.GET.get("dialogue", "")),
        "stale_days": settings.TRACKER_STALE_DAYS,
        "active_filters": len(
            {
                key
                for key, value in request.GET.items()
                if value and key not in ("after", "before", "sort")
            }
        ),
    }
    template = "tracker/recommendation_list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context, status=200 if rows is not None else 400)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "status", "change", "note"
    item: Any


def _timeline(recommendation: Recommendation) -> list[TimelineEntry]:
    """Status updates, other changes and notes, newest first, in three queries."""
    entries = [
        *(
            TimelineEntry(u.at, "status", u)
            for u in recommendation.status_updates.select_related("from_status", "to_status", "by")
        ),
        *(
            TimelineEntry(c.at, "change", c)
            for c in recommendation.field_changes.select_related("by")
        ),
        *(
            TimelineEntry(n.created_at, "note", n)
            for n in recommendation.notes.select_related("author")
        ),
    ]
    order = {"status": 0, "change": 1, "note": 2}
    return sorted(entries, key=lambda e: (e.at, -order[e.kind], e.item.pk), reverse=True)


def _get_recommendation(pk: int) -> Recommendation:
    return get_object_or_404(
        Recommendation.objects.select_related("dialogue", "status", "owner").prefetch_related(
            "themes",
            "actors",
            "consult",
            Prefetch("passages", queryset=Passage.objects.order_by("number")),
        ),
        pk=pk,
    )


FORMS = {
    "status": forms.StatusForm,
    "note": forms.NoteForm,
    "owner": forms.OwnerForm,
    "priority": forms.PriorityForm,
    "review": forms.ReviewForm,
}


def _detail_context(
    request: HttpRequest, recommendation: Recommendation, bound: dict | None = None
) -> dict:
    bound = bound or {}
    can_track = request.user.has_perm("tracker.track_recommendation")
    can_note = request.user.has_perm("tracker.add_note")
    action_forms = {
        name: bound.get(name) or form_class(recommendation=recommendation)
        for name, form_class in FORMS.items()
        if (can_note if name == "note" else can_track)
    }
    return {
        "recommendation": recommendation,
        "suggestions": recommendation.suggestions.select_related("passage", "theme", "actor"),
        "can_edit_links": request.user.has_perm("tracker.change_recommendation"),
        "forms": action_forms,
        "statuses": Status.objects.all(),
        "timeline": _timeline(recommendation),
        "participations": recommendation.dialogue.participations.select_related(
            "person", "organization"
        ).order_by("-role", "position"),
    }


@login_required
def recommendation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, DETAIL, _detail_context(request, _get_recommendation(pk)))


def _changes_since(recommendation: Recommendation, version: int) -> list[Any]:
    """What others changed after ``version``, oldest first, for the conflict message."""
    updates = StatusUpdate.objects.filter(
        recommendation=recommendation, version__gt=version
    ).select_related("from_status", "to_status", "by")
    changes = FieldChange.objects.filter(
        recommendation=recommendation, version__gt=version
    ).select_related("by")
    return sorted([*updates, *changes], key=lambda entry: (entry.at, entry.pk))


def _action(
    request: HttpRequest,
    pk: int,
    name: str,
    permission: str,
    apply: Callable[[Recommendation, dict], Any],
    success: str,
) -> HttpResponse:
    """Validate the action's form, apply it, and answer with the fragment or a redirect.

    400 with the form's errors for bad input; 409 with who changed what when the
    recommendation moved on since the form's version, keeping what was typed.
    """
    if not request.user.has_perm(permission):
        raise PermissionDenied
    recommendation = _get_recommendation(pk)
    form = FORMS[name](request.POST, recommendation=recommendation)
    status, conflict, lost_race = 200, None, False
    valid = form.is_valid()
    # A stale form is a conflict even if it is also invalid: what changed may be why.
    if form.cleaned_data.get("version", recommendation.version) != recommendation.version:
        status = 409
    elif not valid:
        status = 400
    else:
        try:
            apply(recommendation, form.cleaned_data)
        except services.ConflictError:
            status, lost_race = 409, True
        except services.ChangeError as error:
            form.add_error(None, str(error))
            status = 400
    if status == 409:
        conflict = _changes_since(recommendation, form.cleaned_data["version"])
        if lost_race:  # another writer committed between our read and our write
            recommendation.refresh_from_db()
        form.recommendation = recommendation
        form.set_version(recommendation.version)

    if status == 200 and not request.htmx:
        messages.success(request, success)
        return redirect("recommendation_detail", pk=pk)

    bound = {} if status == 200 else {name: form}
    context = {
        # The services update the instance they were given, so it shows the new state.
        **_detail_context(request, recommendation, bound),
        "conflict": conflict,
        "conflict_form": name if conflict is not None else None,
        "just_done": success if status == 200 else None,
        "action": name,
    }
    if not request.htmx:
        return render(request, DETAIL, context, status=status)
    # The action's own part, plus the parts every action can change, swapped out of band.
    fragments = [f"{DETAIL}#{name}-form", f"{DETAIL}#summary", f"{DETAIL}#timeline"]
    html = "".join(
        render_to_string(fragment, {**context, "oob": index > 0}, request=request)
        for index, fragment in enumerate(fragments)
    )
    # The other forms on the page must now be based on the new version too.
    html += "".join(
        format_html(
            '<input type="hidden" name="version" id="{}-version" value="{}" hx-swap-oob="true">',
            other,
            context["recommendation"].version,
        )
        for other in context["forms"]
        if other != name
    )
    return HttpResponse(html, status=status)


@login_required
@require_POST
def recommendation_status(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(recommendation, data):
        services.status_change(
            recommendation=recommendation,
            to=data["status"],
            by=request.user,
            rationale=data["rationale"],
            based_on_version=data["version"],
            evidence_source=data["evidence_source"],
            evidence_url=data["evidence_url"],
            evidence_date=data["evidence_date"],
        )

    return _action(request, pk, "status", "tracker.track_recommendation", apply, "Status changed.")


@login_required
@require_POST
def recommendation_note(request: HttpRequest, pk: int) -> HttpResponse:
    def apply(recommendation, data):
        services.note_add(
            recommendation=recommendation,
            by=request.user,
            text=data["text"],
            based_on_version=data["version"],
        )

    return _action(request, pk, "note", "tracker.add_note", apply, "Note added.")


def _field_action(field: str, name: str, success: str):
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        def apply(recommendation, data):
            services.recommendation_change(
                recommendation=recommendation,
                by=request.user,
                based_on_version=data["version"],
                **{field: data[field]},
            )

        return _action(request, pk, name, "tracker.track_recommendation", apply, success)

    view.__name__ = f"recommendation_{name}"
    return view


recommendation_owner = _field_action("owner", "owner", "Owner saved.")
recommendation_priority = _field_action("priority", "priority", "Priority saved.")
recommendation_review = _field_action("next_review", "review", "Next review date saved.")


@login_required
@require_POST
def suggestion_decide(
    request: HttpRequest, pk: int, suggestion_pk: int, decision: str
) -> HttpResponse:
    """An editor confirms a suggested link (it becomes real) or removes it."""
    if not request.user.has_perm("tracker.change_recommendation"):
        raise PermissionDenied
    suggestion = get_object_or_404(
        # recommendation__pk, not recommendation=: the primary key's lookup knows its
        # range (an id past it finds nothing); the foreign key's would hand SQLite an
        # integer it cannot bind.
        LinkSuggestion.objects.select_related("recommendation"),
        pk=suggestion_pk,
        recommendation__pk=pk,
    )
    if decision == "confirm":
        suggestion_confirm(suggestion)
        messages.success(request, f"Linked: {suggestion.target}.")
    else:
        suggestion.delete()
        messages.success(request, f"Suggestion removed: {suggestion.target}.")
    return redirect("recommendation_detail", pk=pk)


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
