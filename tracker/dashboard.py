"""The reviewers' dashboard: where things stand, how they got there, what needs attention.

Every number is computed by the same queries as the list it links to, so a count
and the rows behind its link cannot disagree.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dialogue.models import Dialogue, Theme
from tracker import charts, history
from tracker.filters import PastDateField, filter_rows, stale_days
from tracker.models import Actor, FieldChange, Note, Recommendation, Status, StatusUpdate

ATTENTION_ROWS = 10
DIALOGUE_BARS = 12  # the most recent dialogues; the dialogue list has them all
RECENT_EVENTS = 20
TREND_MONTHS = 24
DASHBOARD_CACHE_SECONDS = 300
REVERSED = "reversed"


class DashboardForm(forms.Form):
    as_of = PastDateField(required=False, label="As of", help_text="Leave empty for today.")
    since = PastDateField(required=False, label="What changed since")


@dataclass(frozen=True)
class Event:
    at: datetime.datetime
    kind: str
    item: Any


def list_url(as_of: datetime.date | None, **filters) -> str:
    """The recommendation list showing exactly the rows behind a count."""
    if as_of:
        filters["as_of"] = as_of.isoformat()
    return f"{reverse('recommendation_list')}?{urlencode(filters, doseq=True)}"


def _filtered(request: HttpRequest, as_of: datetime.date | None, **filters) -> Any:
    data = QueryDict(urlencode({**filters, **({"as_of": as_of.isoformat()} if as_of else {})}))
    filterset, rows = filter_rows(
        data, Recommendation.objects.select_related("status", "owner", "dialogue"), request
    )
    if rows is None:
        raise ValueError(f"dashboard filter {filters} is invalid: {filterset.errors}")
    return rows


def _attention(request, as_of, **filters) -> dict:
    rows = _filtered(request, as_of, **filters)
    return {
        "count": rows.count(),
        "rows": list(rows[:ATTENTION_ROWS]),
        "url": list_url(as_of, **filters),
    }


def _recent_events(moment: datetime.datetime | None) -> list[Event]:
    def upto(queryset, field="at"):
        return queryset.filter(**{f"{field}__lte": moment}) if moment else queryset

    updates = upto(
        StatusUpdate.objects.select_related("recommendation", "from_status", "to_status", "by")
    )
    changes = upto(FieldChange.objects.select_related("recommendation", "by"))
    notes = upto(Note.objects.select_related("recommendation", "author"), "created_at")
    events = [
        *(Event(u.at, "status", u) for u in updates.order_by("-at", "-id")[:RECENT_EVENTS]),
        *(Event(c.at, "change", c) for c in changes.order_by("-at", "-id")[:RECENT_EVENTS]),
        *(
            Event(n.created_at, "note", n)
            for n in notes.order_by("-created_at", "-id")[:RECENT_EVENTS]
        ),
    ]
    return sorted(events, key=lambda event: event.at, reverse=True)[:RECENT_EVENTS]


def _trend(as_of: datetime.date, counts: Counter) -> charts.Trend | None:
    """The last months' counts by status, up to ``as_of``, whose ``counts`` are known;
    from the first month with any recommendation, or None before there is one."""
    start = as_of - datetime.timedelta(days=31 * TREND_MONTHS)
    days = history.month_ends(start, as_of, limit=TREND_MONTHS)
    trend = history.status_trend(days, known={as_of: counts})
    while trend and not sum(next(iter(trend.values())).values()):
        del trend[next(iter(trend))]  # before the first recommendation
    return charts.trend_chart(trend, list(Status.objects.all())) if trend else None


def dashboard_data(
    request: HttpRequest, as_of: datetime.date | None, since: datetime.date | None
) -> dict:
    moment = history.end_of_day(as_of) if as_of else None
    existing = Q(recommendations__created_at__lte=moment) if moment else Q()
    statuses = list(Status.objects.all())
    status_counts = history.status_counts_as_of(moment)
    total = sum(status_counts.values())
    progress = (
        sum(status.progress * status_counts.get(status.pk, 0) for status in statuses) / total
        if total
        else 0
    )
    owner_counts = history.owner_counts_as_of(moment)
    owners = get_user_model().objects.in_bulk([pk for pk in owner_counts if pk is not None])
    by_owner = sorted(
        ((owners.get(pk), count) for pk, count in owner_counts.items()),
        key=lambda pair: (pair[0] is None, -pair[1]),
    )

    # The most recent dialogues held by then, not all of them: a bar each for a
    # thousand dialogues would make the page half a megabyte that nobody reads.
    dialogues = Dialogue.objects.filter(date__lte=as_of) if as_of else Dialogue.objects.all()
    dialogues = dialogues.order_by("-date", "title", "pk")

    def counted(queryset, relation):
        return queryset.annotate(n=Count(relation, filter=existing, distinct=True))

    data = {
        "as_of": as_of,
        "moment": moment,
        "since": since,
        "total": total,
        "progress": round(progress),
        "by_status": charts.bars(
            [
                (status, status_counts.get(status.pk, 0), list_url(as_of, status=status.slug))
                for status in statuses
            ]
        ),
        "by_theme": charts.bars(
            [
                (theme, theme.n, list_url(as_of, theme=theme.slug))
                for theme in counted(Theme.objects.all(), "recommendations")
            ]
        ),
        "by_actor": charts.bars(
            [
                (actor, actor.n, list_url(as_of, actor=actor.code))
                for actor in counted(Actor.objects.all(), "recommendations")
            ]
        ),
        "by_owner": charts.bars(
            [
                (owner, count, list_url(as_of, owner=owner.username if owner else "nobody"))
                for owner, count in by_owner
            ]
        ),
        "by_dialogue": charts.bars(
            [
                (dialogue, dialogue.n, list_url(as_of, dialogue=dialogue.slug))
                for dialogue in counted(
                    dialogues.filter(pk__in=dialogues.values("pk")[:DIALOGUE_BARS]),
                    "recommendations",
                )
            ]
        ),
        "dialogue_count": dialogues.count(),
        "overdue": _attention(request, as_of, overdue="on", sort="review"),
        "stale": _attention(request, as_of, stale="on", sort="unchanged"),  # longest first
        # The vocabulary is editable: the call-out follows the status whose slug is "reversed".
        "reversed": (
            _attention(request, as_of, status=REVERSED, sort="changed")
            if any(status.slug == REVERSED for status in statuses)
            else None
        ),
        "stale_days": stale_days(),
        "recent": _recent_events(moment),
        "trend": _trend(as_of or timezone.localdate(), status_counts),
        "all_url": list_url(as_of),
    }
    if since:
        start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
        data["changed_count"], data["changed"] = history.changed_since(start, until=moment)
        data["changed_url"] = list_url(as_of, changed_since=since.isoformat())
    return data


def data_version() -> tuple:
    """A fingerprint of everything the dashboard shows, in one cheap query.

    Every tracked change bumps a recommendation's ``updated_at`` and adds a history
    row; notes, new or deleted rows of the vocabularies and dialogues change the
    counts and ids. A recommendation is deleted in the admin (one with history cannot
    be), which logs it: the admin log's newest id. Every part reads one end of an index,
    except the counts of the small vocabulary tables, so the fingerprint costs the same at
    100,000 recommendations as at 1,000. A rename in a vocabulary shows once the cache
    entry expires.
    """
    tables = {
        "rec": Recommendation._meta.db_table,
        "su": StatusUpdate._meta.db_table,
        "fc": FieldChange._meta.db_table,
        "note": Note._meta.db_table,
        "admin_log": LogEntry._meta.db_table,
        **{
            name: model._meta.db_table
            for name, model in (
                ("status", Status),
                ("theme", Theme),
                ("actor", Actor),
                ("dialogue", Dialogue),
                ("user", get_user_model()),
            )
        },
    }
    vocabularies = ", ".join(
        f"(SELECT count(*) + coalesce(max(id), 0) FROM {tables[name]})"  # noqa: S608
        for name in ("status", "theme", "actor", "dialogue", "user")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT max(updated_at) FROM {tables['rec']}), "  # noqa: S608 - table names
            f"(SELECT max(id) FROM {tables['admin_log']}), (SELECT max(id) FROM {tables['su']}), "
            f"(SELECT max(id) FROM {tables['fc']}), (SELECT max(id) FROM {tables['note']}), "
            f"{vocabularies}"
        )
        return tuple(cursor.fetchone())


def _more_dialogues(context: dict) -> str | None:
    """Below the dialogue bars, when they are not all of them: where the rest are."""
    shown, total = len(context["by_dialogue"]), context["dialogue_count"]
    if total <= shown:
        return None
    return f"The {shown} most recent of {total:,} dialogues"


def _context(request, as_of, since) -> dict:
    context = dashboard_data(request, as_of, since)
    context["breakdowns"] = [
        ("By theme", context["by_theme"], "theme", None),
        ("By actor addressed", context["by_actor"], "actor", None),
        ("By owner", context["by_owner"], "owner", None),
        ("By dialogue", context["by_dialogue"], "dialogue", _more_dialogues(context)),
    ]
    if context["trend"]:
        statuses = context["trend"].statuses
        context["trend_table"] = [  # counts as text with grouped digits, as the page shows
            {
                "day": column.day,
                "counts": [
                    f"{next((s.count for s in column.segments if s.status.pk == status.pk), 0):,}"
                    for status in statuses
                ],
                "total": f"{column.total:,}",
            }
            for column in context["trend"].columns
        ]
    return context


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The body is cached under a fingerprint of the data (``data_version``), so a
    cached dashboard is never older than the last change, on any app server."""
    form = DashboardForm(request.GET)
    if not form.is_valid():
        return render(request, "tracker/dashboard.html", {"form": form}, status=400)
    as_of, since = form.cleaned_data["as_of"], form.cleaned_data["since"]
    if as_of and since and since > as_of:
        form.add_error("since", "Give a date before the “as of” date.")
        return render(request, "tracker/dashboard.html", {"form": form}, status=400)
    version = hashlib.sha256(repr((timezone.localdate(), data_version())).encode()).hexdigest()
    key = f"dashboard:{as_of}:{since}:{version}"
    body = cache.get(key)
    context = {"form": form, "as_of": as_of, "since": since}
    if body is None:
        data = _context(request, as_of, since)
        body = render_to_string("tracker/_dashboard_body.html", data, request=request)
        cache.set(key, body, DASHBOARD_CACHE_SECONDS)
        context.update(data)  # for tests and debugging: what the body was made from
    return render(request, "tracker/dashboard.html", {**context, "body": body})
