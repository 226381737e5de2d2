"""The current list's rows as a printable review pack, a CSV file and a JSON file.

All three take the list's filters (``tracker.filters``), including ``as_of``, so a
review or an export shows what the list shows. The exports stream: rows are read
in chunks and written as they come, so 100,000 rows never sit in memory at once.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterator
from itertools import islice
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Aggregate, CharField, Func, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from dialogue.models import Theme
from tracker.filters import RecommendationFilter, ShownState, filter_rows
from tracker.models import Actor, FieldChange, Recommendation, Status, StatusUpdate

REVIEW_LIMIT = 500
CHUNK = 1000
URL_ID = 987654321
CSV_COLUMNS = [
    "id",
    "dialogue",
    "number",
    "title",
    "status",
    "owner",
    "priority",
    "next_review",
    "themes",
    "actors",
    "last_change",
    "version",
    "status_as_of",
    "text",
    "rationale",
]
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _filtered(request: HttpRequest) -> tuple[RecommendationFilter, QuerySet | None]:
    return filter_rows(
        request.GET,
        Recommendation.objects.select_related("dialogue", "status", "owner"),
        request,
    )


def _bad_filters(request: HttpRequest, filterset: RecommendationFilter) -> HttpResponse:
    return render(request, "tracker/bad_filters.html", {"filterset": filterset}, status=400)


def filter_summary(filterset: RecommendationFilter) -> list[tuple[str, str]]:
    """The active filters in words, for the review pack's cover and the JSON header."""
    summary = []
    for name, value in filterset.form.cleaned_data.items():
        if not value or name in ("sort", "as_of"):
            continue
        field = filterset.form.fields[name]
        if name == "status":
            text = ", ".join(status.name for status in value)
        elif name == "owner":
            text = (
                {"me": "me", "nobody": "nobody"}.get(value)
                if isinstance(value, str)
                else (value.get_full_name() or value.get_username())
            )
        elif isinstance(value, bool):
            text = "yes"
        else:
            text = str(value)
        summary.append((str(field.label), text))
    return summary


# The columns the exports read: plain values, not model instances, which would
# cost ten times the time over 10,000 rows.
EXPORT_FIELDS = (
    "id",
    "dialogue__slug",
    "dialogue__title",
    "number",
    "title",
    "text",
    "status_id",
    "owner_id",
    "priority",
    "next_review",
    "updated_at",
    "version",
)
AS_OF_FIELDS = ("status_as_of", "owner_as_of", "review_as_of")
PRIORITIES = dict(Recommendation.Priority.choices)


class LinkIds(Aggregate):
    """A row's link ids as one text, such as "3,5" (in no particular order)."""

    function = "group_concat"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "string_agg((%(expressions)s)::text, ',')"
        return self.as_sql(compiler, connection, template=template, **extra)


LINKS = ("themes", "actors")


def _with_link_ids(rows: QuerySet) -> QuerySet:
    """``themes_ids`` and ``actors_ids`` on each row: a correlated subquery a field,
    which costs the database less than looking up a chunk's ids afterwards (an index
    probe an id, plus a round trip a chunk)."""
    annotations = {}
    for name in LINKS:
        field = Recommendation._meta.get_field(name)
        links = field.remote_field.through.objects.filter(
            **{field.m2m_field_name(): OuterRef("pk")}
        )
        annotations[f"{name}_ids"] = Subquery(
            links.order_by()
            .values(field.m2m_field_name())
            .annotate(ids=LinkIds(field.m2m_reverse_field_name()))
            .values("ids")
        )
    return rows.annotate(**annotations)


class _Labels:
    """Link ids ("3,5", or None for no links) to their labels, in the vocabulary's
    order; worked out once a distinct set of ids, not once a row (a small vocabulary
    makes few distinct sets). ``shown`` turns the labels into what a row shows."""

    def __init__(self, labels: dict[int, str], shown=tuple):
        self.labels, self.shown = labels, shown
        self.rank = {pk: n for n, pk in enumerate(labels)}
        self.memo = {None: shown(())}

    def __call__(self, ids: str | None):
        try:
            return self.memo[ids]
        except KeyError:
            pks = sorted(map(int, ids.split(",")), key=self.rank.__getitem__)
            self.memo[ids] = self.shown(tuple(self.labels[pk] for pk in pks))
            return self.memo[ids]


def _vocabularies(shown=tuple) -> dict[str, _Labels]:
    return {
        "themes": _Labels(dict(Theme.objects.order_by("name").values_list("pk", "name")), shown),
        "actors": _Labels(dict(Actor.objects.order_by("name").values_list("pk", "code")), shown),
    }


def _chunks(
    filterset: RecommendationFilter, rows: QuerySet, size: int = CHUNK
) -> Iterator[list[SimpleNamespace]]:
    """Rows a chunk at a time, as light objects with ``status``, ``owner``,
    ``theme_names`` and ``actor_codes``, with one small query a chunk (the owners).

    Not prefetch_related: its per-instance caches would cost far more memory and
    time than the rows themselves.
    """
    fields = EXPORT_FIELDS + (AS_OF_FIELDS if filterset.as_of_moment else ())
    iterator = (
        _with_link_ids(rows).values(*fields, "themes_ids", "actors_ids").iterator(chunk_size=size)
    )
    statuses = {status.pk: status for status in Status.objects.all()}
    labels = _vocabularies(shown=list)
    while chunk := list(islice(iterator, size)):
        owners = get_user_model().objects.in_bulk({row["owner_id"] for row in chunk} - {None})
        yield [
            SimpleNamespace(
                **row,
                pk=row["id"],
                status=statuses[row["status_id"]],
                owner=owners.get(row["owner_id"]),
                theme_names=labels["themes"](row["themes_ids"]),
                actor_codes=labels["actors"](row["actors_ids"]),
            )
            for row in chunk
        ]


def _stamp(filterset: RecommendationFilter) -> datetime.datetime:
    return filterset.as_of_moment or timezone.now()


@login_required
def review_pack(request: HttpRequest) -> HttpResponse:
    filterset, rows = _filtered(request)
    if rows is None:
        return _bad_filters(request, filterset)
    moment = filterset.as_of_moment
    updates = StatusUpdate.objects.filter(recommendation=OuterRef("pk"))
    if moment:
        updates = updates.filter(at__lte=moment)
    rows = rows.order_by("-dialogue__date", "dialogue_id", "number").annotate(
        last_update=Subquery(updates.order_by("-at", "-id").values("id")[:1])
    )
    total = rows.count()
    shown = list(rows[:REVIEW_LIMIT])
    state = ShownState(filterset)
    state.load_owners(shown)
    last_updates = StatusUpdate.objects.select_related("from_status", "to_status", "by").in_bulk(
        [row.last_update for row in shown if row.last_update]
    )
    dialogues: dict = defaultdict(list)
    for row in shown:
        row.shown_status = state.status(row)
        row.shown_owner = state.owner(row)
        row.shown_review = state.next_review(row)
        row.last_status_update = last_updates.get(row.last_update)
        dialogues[row.dialogue].append(row)
    return render(
        request,
        "tracker/review.html",
        {
            "filterset": filterset,
            "summary": filter_summary(filterset),
            "as_of": filterset.as_of_day or timezone.localdate(),
            "generated": timezone.now(),
            "dialogues": dict(dialogues),
            "total": total,
            "shown": len(shown),
            "query": request.GET.urlencode(),
        },
    )


# The CSV is built a column at a time: each text column is joined into one string,
# defused and quoted by a few passes over that string, and split back. Python's csv
# module walks every character in a loop of its own, which cost 90 ms of a 10,000-row
# export's 3.8 MB; these passes run at memchr speed. Text cells are always quoted,
# which every CSV reader accepts; numbers and dates never need it.
_SEP = "\x00"  # not in any text: PostgreSQL refuses it, and Django's forms strip it


def _cell(value: str) -> str:
    """A text cell, defused and quoted."""
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    return '"' + value.replace('"', '""') + '"'


def _text_column(values: list[str]) -> list[str]:
    """``_cell`` of every value, in a few passes over the whole column."""
    joined = _SEP + _SEP.join(values)
    if joined.count(_SEP) != len(values):  # a value holds the separator: cell by cell
        return [_cell(value) for value in values]
    for start in FORMULA_STARTS:  # rare: a test for each, then a replace if needed
        if _SEP + start in joined:
            joined = joined.replace(_SEP + start, _SEP + "'" + start)
    joined = joined.replace('"', '""')
    return ('"' + joined[1:].replace(_SEP, '"' + _SEP + '"') + '"').split(_SEP)


class IsoSecondsUTC(Func):
    """A time as the text of ``isoformat(timespec="seconds")`` in UTC, made by the
    database: Django reads a timestamp with a loader of its own, in Python, which took
    100 ms of 10,000 rows. Whatever the connection's time zone and date style."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        template = (
            "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite holds the time as UTC text, "2024-05-01 10:20:30.123456".
        template = "strftime('%%%%Y-%%%%m-%%%%dT%%%%H:%%%%M:%%%%S+00:00', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)


def _iso_date(value) -> str:
    if not value:
        return ""
    return value if isinstance(value, str) else value.isoformat()


# The columns the CSV reads: plain tuples, one a row.
CSV_FIELDS = (
    "id",
    "dialogue__title",
    "number",
    "title",
    "status_id",
    "owner_id",
    "priority",
    "next_review",
    "last_change",
    "version",
    "text",
    "themes_ids",
    "actors_ids",
)
PRIORITY_CELLS = {value: _cell(str(label)) for value, label in PRIORITIES.items()}


class _CsvRows:
    """Turns a chunk of ``CSV_FIELDS`` tuples into CSV text, a column at a time."""

    def __init__(self, filterset: RecommendationFilter):
        self.as_of = filterset.as_of_moment
        self.fields = CSV_FIELDS + (AS_OF_FIELDS if self.as_of else ())
        self.status_cells = {status.pk: _cell(status.name) for status in Status.objects.all()}
        self.link_cells = _vocabularies(shown=lambda labels: _cell("; ".join(labels)))
        self.stamp = _stamp(filterset).isoformat(timespec="seconds")

    def text(self, chunk: list[tuple]) -> str:
        columns = dict(zip(self.fields, zip(*chunk, strict=True), strict=True))
        ids = columns["id"]
        if self.as_of:
            statuses, reviews = columns["status_as_of"], columns["review_as_of"]
            owners = [int(owner) if owner else None for owner in columns["owner_as_of"]]
        else:
            statuses, reviews = columns["status_id"], columns["next_review"]
            owners = columns["owner_id"]
        user = get_user_model()
        owner_cells = {None: '""'} | {
            pk: _cell(username)
            for pk, username in user.objects.filter(pk__in=set(owners) - {None}).values_list(
                "pk", user.USERNAME_FIELD
            )
        }
        cells = zip(
            map(str, ids),
            _text_column(columns["dialogue__title"]),
            map(str, columns["number"]),
            _text_column(columns["title"]),
            map(self.status_cells.__getitem__, statuses),
            # An owner "as of" a date may have been deleted since: shown as nobody.
            map(owner_cells.get, owners, ['""'] * len(ids)),
            map(PRIORITY_CELLS.__getitem__, columns["priority"]),
            map(_iso_date, reviews),
            map(self.link_cells["themes"], columns["themes_ids"]),
            map(self.link_cells["actors"], columns["actors_ids"]),
            columns["last_change"],
            map(str, columns["version"]),
            [self.stamp] * len(ids),
            _text_column(columns["text"]),
            ['""'] * len(ids),
            strict=True,
        )
        return "\r\n".join(map(",".join, cells)) + "\r\n"


def _csv_lines(filterset: RecommendationFilter, rows: QuerySet) -> Iterator[str]:
    csv_rows = _CsvRows(filterset)
    rows = _with_link_ids(rows).annotate(last_change=IsoSecondsUTC("updated_at"))
    iterator = rows.values_list(*csv_rows.fields).iterator(chunk_size=CHUNK)
    yield "\ufeff" + ",".join(CSV_COLUMNS) + "\r\n"  # the BOM: Excel then reads UTF-8
    while chunk := list(islice(iterator, CHUNK)):
        yield csv_rows.text(chunk)  # one write a chunk, not one a row
        del chunk  # before the next one is read: one chunk in memory at a time


def _filename(filterset: RecommendationFilter, extension: str) -> str:
    return f"recommendations-{_stamp(filterset):%Y-%m-%d}.{extension}"


@login_required
def export_csv(request: HttpRequest) -> HttpResponse:
    filterset, rows = _filtered(request)
    if rows is None:
        return _bad_filters(request, filterset)
    response = StreamingHttpResponse(
        _csv_lines(filterset, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(filterset, "csv")}"'
    response["X-Status-As-Of"] = _stamp(filterset).isoformat(timespec="seconds")
    return response


def _history(chunk: list[Recommendation], moment) -> dict[int, list[dict]]:
    """Each recommendation's status updates and field changes, oldest first: 2 queries."""
    ids = [row.pk for row in chunk]
    entries: dict[int, list] = defaultdict(list)
    updates = StatusUpdate.objects.filter(recommendation__in=ids).select_related(
        "from_status", "to_status", "by"
    )
    changes = FieldChange.objects.filter(recommendation__in=ids).select_related("by")
    if moment:
        updates, changes = updates.filter(at__lte=moment), changes.filter(at__lte=moment)
    for update in updates:
        entries[update.recommendation_id].append(
            {
                "at": update.at.isoformat(),
                "kind": "status",
                "by": update.by.get_username(),
                "from": update.from_status.name,
                "to": update.to_status.name,
                "rationale": update.rationale,
                "evidence": {
                    "source": update.evidence_source,
                    "url": update.evidence_url,
                    "date": update.evidence_date.isoformat() if update.evidence_date else None,
                },
            }
        )
    for change in changes:
        entries[change.recommendation_id].append(
            {
                "at": change.at.isoformat(),
                "kind": change.field,
                "by": change.by.get_username(),
                "from": change.old_label,
                "to": change.new_label,
            }
        )
    return {pk: sorted(items, key=lambda item: item["at"]) for pk, items in entries.items()}


def _json_chunks(request, filterset: RecommendationFilter, rows: QuerySet, with_history: bool):
    state = ShownState(filterset)
    header = {
        "status_as_of": _stamp(filterset).isoformat(timespec="seconds"),
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "filters": dict(filter_summary(filterset)),
    }
    yield json.dumps(header, ensure_ascii=False)[:-1] + ', "recommendations": ['
    first = True
    # One reverse() for all rows: the id is the only part that changes.
    url_start, url_end = request.build_absolute_uri(
        reverse("recommendation_detail", args=[URL_ID])
    ).split(str(URL_ID))
    for chunk in _chunks(filterset, rows):
        state.load_owners(chunk)
        history = _history(chunk, filterset.as_of_moment) if with_history else {}
        items = []
        for row in chunk:
            owner = state.owner(row)
            status = state.status(row)
            item = {
                "id": row.pk,
                "url": f"{url_start}{row.pk}{url_end}",
                "dialogue": {"slug": row.dialogue__slug, "title": row.dialogue__title},
                "number": row.number,
                "title": row.title,
                "text": row.text,
                "status": {"slug": status.slug, "name": status.name, "open": status.is_open},
                "owner": owner.get_username() if owner else None,
                "priority": PRIORITIES[row.priority],
                "next_review": state.next_review(row) or None,
                "themes": row.theme_names,
                "actors": row.actor_codes,
                "last_change": row.updated_at.isoformat(),
                "version": row.version,
            }
            if with_history:
                item["history"] = history.get(row.pk, [])
            items.append(json.dumps(item, ensure_ascii=False))
        yield ("" if first else ",") + ",".join(items)  # one write a chunk
        first = False
    yield "]}"


@login_required
def export_json(request: HttpRequest) -> HttpResponse:
    filterset, rows = _filtered(request)
    if rows is None:
        return _bad_filters(request, filterset)
    with_history = request.GET.get("history") in ("1", "true", "yes", "on")
    response = StreamingHttpResponse(
        _json_chunks(request, filterset, rows, with_history),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(filterset, "json")}"'
    response["X-Status-As-Of"] = _stamp(filterset).isoformat(timespec="seconds")
    return response
