"""Reading the past from the immutable history.

Status updates and field changes form a chain per recommendation: each one's
"from" is the previous one's "to" (the services write them under the version
lock). So the state at a moment is the current state with every later change
undone, which the database can do in a few aggregate queries, whatever the
number of recommendations. The row-level variant (``as_of_annotations``) uses
correlated subqueries on the ``(recommendation, at)`` indexes.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import connections
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    FilteredRelation,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Cast, Coalesce, FirstValue, Greatest, TruncMonth
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from tracker.models import FieldChange, Recommendation, StatusUpdate


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last moment of ``day`` in the current time zone: "as of 31 March" includes 31 March."""
    start = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(start) - datetime.timedelta(microseconds=1)


def _current_counts(
    recommendations: QuerySet[Recommendation] | None, moment: datetime.datetime | None, field: str
) -> tuple[QuerySet[Recommendation], Counter]:
    """The recommendations that existed at ``moment``, and their current counts by ``field``."""
    if recommendations is None:
        recommendations = Recommendation.objects.all()
    if moment is not None:
        recommendations = recommendations.filter(created_at__lte=moment)
    # Count("*"), not Count("id"): an index that starts with the field answers it alone.
    grouped = recommendations.order_by().values(field).annotate(n=Count("*"))
    return recommendations, Counter({row[field]: row["n"] for row in grouped})


def status_counts_as_of(
    moment: datetime.datetime | None, recommendations: QuerySet[Recommendation] | None = None
) -> Counter:
    """How many recommendations stood in each status (by id) at ``moment`` (None: now).

    Two aggregate queries: the current counts, minus the status updates made after
    ``moment`` to recommendations that existed then.
    """
    recommendations, counts = _current_counts(recommendations, moment, "status")
    if moment is None:
        return counts
    later = StatusUpdate.objects.filter(at__gt=moment, recommendation__in=recommendations)
    for row in later.order_by().values("to_status", "from_status").annotate(n=Count("id")):
        counts[row["to_status"]] -= row["n"]
        counts[row["from_status"]] += row["n"]
    return +counts  # drop zeros


def owner_counts_as_of(
    moment: datetime.datetime | None, recommendations: QuerySet[Recommendation] | None = None
) -> Counter:
    """How many recommendations each owner (user id, or None for nobody) held at ``moment``."""
    recommendations, counts = _current_counts(recommendations, moment, "owner")
    if moment is None:
        return counts
    later = FieldChange.objects.filter(
        field=FieldChange.Field.OWNER, at__gt=moment, recommendation__in=recommendations
    )
    for row in later.order_by().values("old_value", "new_value").annotate(n=Count("id")):
        counts[int(row["new_value"]) if row["new_value"] else None] -= row["n"]
        counts[int(row["old_value"]) if row["old_value"] else None] += row["n"]
    return +counts


def month_ends(first: datetime.date, last: datetime.date, limit: int = 24) -> list[datetime.date]:
    """The last day of each month from ``first``'s month to ``last``'s, at most ``limit``."""
    ends = []
    year, month = last.year, last.month
    while (year, month) >= (first.year, first.month) and len(ends) < limit:
        following = datetime.date(year + month // 12, month % 12 + 1, 1)
        ends.append(min(following - datetime.timedelta(days=1), last))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(ends))


def status_trend(
    days: Iterable[datetime.date], known: dict[datetime.date, Counter] | None = None
) -> dict[datetime.date, Counter]:
    """Counts per status at the end of each of ``days``, in a fixed number of queries.

    Like ``status_counts_as_of``, the past is the present with the later changes undone:
    the count at the end of month M = the counts now, minus every update after M (its
    "to" back to its "from"), minus the recommendations made after M (in their initial
    status: where their first update started, or their status now if they never moved).
    So only the window's history is read, not all of it: three grouped queries of a few
    thousand rows, the counts now, the updates after the first day by month, "from"
    and "to", and the recommendations made after it by month and initial status (the
    first update is the one with no ``previous_at``). A day inside a month (today, say)
    is counted exactly on its own, unless ``known`` holds its counts already.
    """
    days = sorted(days)
    partial = [day for day in days if (day + datetime.timedelta(days=1)).day != 1]
    days = [day for day in days if day not in partial]
    known = known or {}
    trend = {day: known.get(day) or status_counts_as_of(end_of_day(day)) for day in partial}
    if not days:
        return trend
    # What happened after the first day: its month has ended (every day here ends one).
    since = timezone.make_aware(
        datetime.datetime.combine(days[0] + datetime.timedelta(days=1), datetime.time.min)
    )
    undo: dict[datetime.date, Counter] = defaultdict(Counter)  # a month's changes, undone
    # Months as dates (the first day, in the current time zone) made by the database: as
    # datetimes, Django converted each of a few thousand rows in Python.
    first = FilteredRelation("status_updates", condition=Q(status_updates__previous_at=None))
    for row in (
        Recommendation.objects.filter(created_at__gte=since)
        .order_by()
        .annotate(first=first)
        .annotate(
            month=TruncMonth("created_at", output_field=DateField()),
            initial=Coalesce("first__from_status", "status"),
        )
        .values("month", "initial")
        .annotate(n=Count("id"))
    ):
        undo[row["month"]][row["initial"]] -= row["n"]
    for row in (
        StatusUpdate.objects.filter(at__gte=since)
        .order_by()
        .annotate(month=TruncMonth("at", output_field=DateField()))
        .values("month", "from_status", "to_status")
        .annotate(n=Count("*"))  # not Count("id"): the index has no ids
    ):
        moves = undo[row["month"]]
        moves[row["from_status"]] += row["n"]
        moves[row["to_status"]] -= row["n"]
    # The counts now; those at the end of today when known (nothing is made in the future).
    now = known.get(timezone.localdate()) or status_counts_as_of(None)
    for day in days:
        month = _month_start(day)
        counts = Counter(now)
        for start, change in undo.items():
            if start > month:
                counts.update(change)
        trend[day] = +counts
    return dict(sorted(trend.items()))


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def as_of_annotations(moment: datetime.datetime) -> dict:
    """Per-row state at ``moment``: status id, owner id (as text, "" for nobody), review date
    (ISO text, "" for none). For filtering lists and exports "as of" a date."""
    status_updates = StatusUpdate.objects.filter(recommendation=OuterRef("pk"))
    changes = FieldChange.objects.filter(recommendation=OuterRef("pk"))

    def field_as_of(field: str, current):
        before = changes.filter(field=field, at__lte=moment).order_by("-at", "-id")
        after = changes.filter(field=field, at__gt=moment).order_by("at", "id")
        return Coalesce(
            Subquery(before.values("new_value")[:1]),
            Subquery(after.values("old_value")[:1]),
            Coalesce(Cast(current, CharField()), Value("")),
        )

    return {
        "status_as_of": Coalesce(
            Subquery(
                status_updates.filter(at__lte=moment).order_by("-at", "-id").values("to_status")[:1]
            ),
            Subquery(
                status_updates.filter(at__gt=moment).order_by("at", "id").values("from_status")[:1]
            ),
            F("status_id"),
            output_field=BigIntegerField(),
        ),
        "owner_as_of": field_as_of(FieldChange.Field.OWNER, F("owner_id")),
        "review_as_of": field_as_of(FieldChange.Field.NEXT_REVIEW, F("next_review")),
    }


# Before any status update: what a recommendation without one counts as "last moved".
EARLIEST = datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)


def status_as_of_in(statuses: list[int], moment: datetime.datetime) -> Q:
    """Rows whose status at ``moment`` was one of ``statuses`` (ids), read from indexes.

    The history is a chain (each update starts where the last one ended), so the status
    at a moment is where the first update after it started, or, with no update since,
    the status now. The first update after the moment is the one whose previous update
    (``previous_at``) is not after it; index ``status_update_first_after_idx`` finds
    those that started in one of ``statuses`` without a look at each row.
    """
    first_after = StatusUpdate.objects.filter(
        Q(previous_at__lte=moment) | Q(previous_at__isnull=True),
        from_status__in=statuses,
        at__gt=moment,
    )
    # Not NOT EXISTS (an update since): PostgreSQL hashes that over every update since
    # the moment. The last update's time is one probe of an index a row, for the rows in
    # one of the statuses now only.
    last = StatusUpdate.objects.filter(recommendation=OuterRef("pk")).order_by("-at", "-id")
    last_at = Coalesce(Subquery(last.values("at")[:1]), Value(EARLIEST))
    return Q(pk__in=first_after.values("recommendation")) | (
        Q(status__in=statuses) & Q(LessThanOrEqual(last_at, moment))
    )


def review_before_as_of(day: datetime.date, moment: datetime.datetime) -> Q:
    """Rows whose review date at ``moment`` was set and before ``day``, in two set-wide
    reads instead of a look back through each row's changes.

    A chain too: the review date at a moment is where the first change after it started
    (its ``old_value``), or, with no change since, the date now.
    """
    since = FieldChange.objects.filter(field=FieldChange.Field.NEXT_REVIEW, at__gt=moment)
    first_after = since.annotate(
        started=Window(
            FirstValue("old_value"),
            partition_by=[F("recommendation")],
            order_by=[F("at").asc(), F("id").asc()],
        )
    )
    # "" (none) sorts before every date: ``started > ""`` means a date was set.
    started_before = first_after.filter(started__gt="", started__lt=day.isoformat())
    unchanged = ~Exists(since.filter(recommendation=OuterRef("pk")))
    return Q(pk__in=started_before.values("recommendation")) | (Q(next_review__lt=day) & unchanged)


def quiet_between(start: datetime.datetime, end: datetime.datetime) -> Q:
    """Rows made before ``start`` with no status update or field change from ``start``
    to ``end``: their last change up to ``end`` came before ``start``."""
    window = {"recommendation": OuterRef("pk"), "at__gte": start, "at__lte": end}
    return (
        Q(created_at__lt=start)
        & ~Exists(StatusUpdate.objects.filter(**window))
        & ~Exists(FieldChange.objects.filter(**window))
    )


def last_change_expression(moment: datetime.datetime) -> Greatest:
    """A row's last change up to ``moment`` as a column: its last status update or field
    change then, or its creation (as ``quiet_between`` counts it). One index probe per
    row and table."""

    def last(model) -> Coalesce:
        entries = model.objects.filter(recommendation=OuterRef("pk"), at__lte=moment)
        return Coalesce(Subquery(entries.order_by("-at").values("at")[:1]), F("created_at"))

    return Greatest(F("created_at"), last(StatusUpdate), last(FieldChange))


def link_status_updates(using: str = "default") -> None:
    """Set every status update's ``previous_at`` from the others (after a restore of a
    backup made before the field existed). The statement of migration tracker/0008."""
    table = connections[using].ops.quote_name(StatusUpdate._meta.db_table)
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET previous_at = chain.previous_at FROM ("  # noqa: S608 - _meta
            "SELECT id, LAG(at) OVER (PARTITION BY recommendation_id ORDER BY at, id) "
            f"AS previous_at FROM {table}) AS chain "
            f"WHERE chain.id = {table}.id "
            f"AND chain.previous_at IS DISTINCT FROM {table}.previous_at"
        )


def changed_since(
    moment: datetime.datetime, until: datetime.datetime | None = None, limit: int = 50
) -> tuple[int, list[dict]]:
    """The recommendations whose status moved after ``moment`` (up to ``until``): how
    many, and for the ``limit`` most recently moved, each with its updates in order
    (who, when, from, to, rationale), where it stood before and where it ended."""
    moves = StatusUpdate.objects.filter(at__gte=moment)
    if until is not None:
        moves = moves.filter(at__lte=until)
    total = moves.order_by().values("recommendation").distinct().count()
    latest = list(
        moves.order_by()
        .values("recommendation")
        .annotate(latest=Max("at"))
        .order_by("-latest", "-recommendation")
        .values_list("recommendation", flat=True)[:limit]
    )
    updates = defaultdict(list)
    for update in (
        moves.filter(recommendation__in=latest)
        .select_related("from_status", "to_status", "by")
        .order_by("at", "id")
    ):
        updates[update.recommendation_id].append(update)
    recommendations = Recommendation.objects.select_related("dialogue").in_bulk(latest)
    return total, [
        {
            "recommendation": recommendations[pk],
            "updates": updates[pk],
            "from_status": updates[pk][0].from_status,
            "to_status": updates[pk][-1].to_status,
        }
        for pk in latest
    ]
