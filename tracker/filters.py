"""The recommendation list's filters and sorts, read from the query string.

Every value is validated as a form field: a bad value makes the filter set
invalid, and the list answers 400 with the reason instead of guessing. With
``as_of`` the status, owner, overdue and stale filters apply to the state at the
end of that day, rebuilt from the history (``tracker.history``); themes, actors
and dialogues are editorial links and always current.
"""

import datetime

import django_filters
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import NullIf
from django.utils import timezone

from dialogue.models import Dialogue, Theme
from tracker import history
from tracker.models import Actor, Note, Recommendation, Status, StatusUpdate
from tracker.pagination import Key, ordering

# Each ends with the id, so the order is total and a page can start after any row
# (tracker.pagination).
SORTS = {
    "number": (
        "Number",
        [Key("dialogue__date", descending=True), Key("dialogue_id"), Key("number"), Key("id")],
    ),
    "status": (
        "Status",
        [Key("status__order"), Key("dialogue__date", descending=True), Key("number"), Key("id")],
    ),
    "review": (
        "Next review",
        [
            Key("next_review", nulls_last=True),
            Key("dialogue__date", descending=True),
            Key("number"),
            Key("id"),
        ],
    ),
    "changed": ("Last change", [Key("updated_at", descending=True), Key("id", descending=True)]),
}
# What has waited longest first, the order a reviewer reads stale items in: the reverse.
SORTS["unchanged"] = ("Longest unchanged", [key.reversed() for key in SORTS["changed"][1]])
# The same sorts in a list "as of" a date, by the values then, which the list shows: the
# first key is an annotation (``RecommendationFilter.annotations``), worked out for every
# matching row before the page is known. The number sort does not change with time.
AS_OF_SORTS = {
    "status": [Key("status_order_then"), *SORTS["status"][1][1:]],
    "review": [Key("review_then", nulls_last=True), *SORTS["review"][1][1:]],
    "changed": [Key("changed_then", descending=True), Key("id", descending=True)],
}
AS_OF_SORTS["unchanged"] = [key.reversed() for key in AS_OF_SORTS["changed"]]
# The same expressions as the indexes of migration tracker/0006, so PostgreSQL uses them.
SEARCH_CONFIG = "english"
RECOMMENDATION_VECTOR = SearchVector("title", "text", config=SEARCH_CONFIG)
NOTE_VECTOR = SearchVector("text", config=SEARCH_CONFIG)
# Up to this many recommendations with a matching note go into the query as ids;
# past it, a subquery (rarely: a note must contain the word).
NOTE_IDS = 500
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def trackers() -> QuerySet:
    """The people a recommendation can be assigned to: analysts, editors, superusers."""
    return (
        get_user_model()
        .objects.filter(
            Q(groups__name__in=["Analyst", "Editor"]) | Q(is_superuser=True), is_active=True
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def stale_days() -> int:
    return settings.TRACKER_STALE_DAYS


class OwnerField(forms.CharField):
    """ "me", "nobody" or a username; cleans to "", "nobody" or a user."""

    def clean(self, value):
        value = super().clean(value)
        if value in ("", "nobody"):
            return value
        if value == "me":
            return "me"
        user = get_user_model().objects.filter(username=value).first()
        if user is None:
            raise forms.ValidationError(f"There is no user called “{value}”.")
        return user


class OwnerFilter(django_filters.Filter):
    field_class = OwnerField

    def filter(self, qs, value):
        if not value:
            return qs
        user = self.parent.request.user if value == "me" else value
        if self.parent.as_of_moment:
            return qs.filter(owner_as_of="" if value == "nobody" else str(user.pk))
        if value == "nobody":
            return qs.filter(owner__isnull=True)
        return qs.filter(owner=user)


class PastDateField(forms.DateField):
    widget = DATE_WIDGET

    def clean(self, value):
        day = super().clean(value)
        if day and not datetime.date(1900, 1, 1) <= day <= timezone.localdate():
            raise forms.ValidationError("Give a date between 1900 and today.")
        return day


class PastDateFilter(django_filters.Filter):
    field_class = PastDateField


class RecommendationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=200)
    status = django_filters.ModelMultipleChoiceFilter(
        queryset=Status.objects.all(), to_field_name="slug", method="filter_status", label="Status"
    )
    theme = django_filters.ModelChoiceFilter(
        queryset=Theme.objects.all(),
        to_field_name="slug",
        field_name="themes",
        label="Theme",
        empty_label="Any theme",
    )
    actor = django_filters.ModelChoiceFilter(
        queryset=Actor.objects.all(),
        to_field_name="code",
        field_name="actors",
        label="Actor",
        empty_label="Anyone",
    )
    owner = OwnerFilter(label="Owner")
    dialogue = django_filters.ModelChoiceFilter(
        queryset=Dialogue.objects.all(),
        to_field_name="slug",
        label="Dialogue",
        empty_label="Any dialogue",
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Review date passed", widget=forms.CheckboxInput
    )
    stale = django_filters.BooleanFilter(
        method="filter_stale", label="No change for a while", widget=forms.CheckboxInput
    )
    changed_since = PastDateFilter(method="filter_changed_since", label="Status moved since")
    as_of = PastDateFilter(method="filter_as_of", label="Status as of")
    sort = django_filters.ChoiceFilter(
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        method="sort_by",
        label="Sort by",
        empty_label=None,
    )

    class Meta:
        model = Recommendation
        fields = []

    @property
    def as_of_day(self) -> datetime.date | None:
        """The ``as_of`` day once the form is valid, else None (now)."""
        return getattr(self.form, "cleaned_data", {}).get("as_of")

    @property
    def as_of_moment(self) -> datetime.datetime | None:
        """The end of the ``as_of`` day, or None for now."""
        return history.end_of_day(self.as_of_day) if self.as_of_day else None

    def search(self, queryset, name, value):
        """Words in the title, the text or any note: every word must match somewhere.

        PostgreSQL: full-text search (English stemming) on the GIN indexes of
        migration 0006. The notes are searched first, and the recommendations that
        matched there come in as ids: the condition is then an OR of two indexes,
        which PostgreSQL combines, rather than a subquery it would run against
        every row. SQLite: a substring search.
        """
        postgres = connection.vendor == "postgresql"
        for n, word in enumerate(value.split()):
            if postgres:
                query = SearchQuery(word, config=SEARCH_CONFIG)
                notes = Note.objects.alias(match=NOTE_VECTOR).filter(match=query)
                note_ids = list(
                    notes.values_list("recommendation_id", flat=True).distinct()[: NOTE_IDS + 1]
                )
                if len(note_ids) > NOTE_IDS:
                    note_ids = notes.values("recommendation_id")
                match = f"search_{n}"
                queryset = queryset.alias(**{match: RECOMMENDATION_VECTOR}).filter(
                    Q(**{match: query}) | Q(pk__in=note_ids)
                )
            else:
                in_notes = Note.objects.filter(recommendation=OuterRef("pk"), text__icontains=word)
                queryset = queryset.filter(
                    Q(title__icontains=word) | Q(text__icontains=word) | Exists(in_notes)
                )
        return queryset

    def filter_status(self, queryset, name, value):
        if not value:
            return queryset
        ids = [status.pk for status in value]
        if not self.as_of_moment:
            return queryset.filter(status__in=ids)
        return queryset.filter(history.status_as_of_in(ids, self.as_of_moment))

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        if not self.as_of_moment:
            return queryset.overdue(timezone.localdate())
        return queryset.filter(
            history.status_as_of_in(open_status_ids(), self.as_of_moment),
            history.review_before_as_of(self.as_of_day, self.as_of_moment),
        )

    def filter_stale(self, queryset, name, value):
        if not value:
            return queryset
        return stale(queryset, self.as_of_moment)

    def filter_changed_since(self, queryset, name, value):
        moment = timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))
        moved = StatusUpdate.objects.filter(recommendation=OuterRef("pk"), at__gte=moment)
        if self.as_of_moment:
            moved = moved.filter(at__lte=self.as_of_moment)
        return queryset.filter(Exists(moved))

    def filter_as_of(self, queryset, name, value):
        return queryset  # applied first, in filter_queryset

    def sort_by(self, queryset, name, value):
        return queryset  # applied last, in filter_queryset

    def filter_queryset(self, queryset):
        if self.as_of_moment:
            queryset = queryset.filter(created_at__lte=self.as_of_moment)
        queryset = super().filter_queryset(queryset.annotate(**self.annotations))
        return queryset.order_by(*ordering(self.sort_keys))

    @property
    def sort_name(self) -> str:
        return getattr(self.form, "cleaned_data", {}).get("sort") or "number"

    @property
    def sort_keys(self) -> list[Key]:
        if self.as_of_moment and self.sort_name in AS_OF_SORTS:
            return AS_OF_SORTS[self.sort_name]
        return SORTS[self.sort_name][1]

    @property
    def annotations(self) -> dict:
        """What the rows carry as of a date: the state then (``history.as_of_annotations``),
        the last change then (which the list shows) and the value the sort orders by. A
        page's first row is read back with them."""
        if not self.as_of_moment:
            return {}
        annotations = history.as_of_annotations(self.as_of_moment)
        annotations["changed_then"] = history.last_change_expression(self.as_of_moment)
        if self.sort_name == "status":
            order = Status.objects.filter(pk=OuterRef("status_as_of")).values("order")
            annotations["status_order_then"] = Subquery(order[:1])
        elif self.sort_name == "review":
            annotations["review_then"] = NullIf("review_as_of", Value(""))  # "": no date
        return annotations


def open_status_ids() -> list[int]:
    return list(Status.objects.filter(is_open=True).values_list("pk", flat=True))


def stale(queryset: QuerySet, moment: datetime.datetime | None) -> QuerySet:
    """Open recommendations with no change for ``TRACKER_STALE_DAYS`` before ``moment``.

    Now: by ``updated_at`` (indexed). As of a past moment: no history entry from the
    cutoff up to then, and made before the cutoff.
    """
    cutoff = (moment or timezone.now()) - datetime.timedelta(days=stale_days())
    if moment is None:
        return queryset.filter(status__is_open=True, updated_at__lt=cutoff)
    return queryset.filter(
        history.status_as_of_in(open_status_ids(), moment),
        history.quiet_between(cutoff, moment),
    )


def filter_rows(data, queryset: QuerySet, request) -> tuple[RecommendationFilter, QuerySet | None]:
    """The filter set for ``data`` (a query string) and its rows, or None when a value is bad.

    The list, the exports, the review pack and the dashboard's counts all read rows
    through here, so a count and the list behind its link cannot disagree.
    """
    filterset = RecommendationFilter(data, queryset=queryset, request=request)
    return filterset, (filterset.qs if filterset.is_valid() else None)


class ShownState:
    """Status, owner and review date of rows: now, or as of the filter's day."""

    def __init__(self, filterset: RecommendationFilter):
        self.as_of = filterset.as_of_moment
        self.statuses = {status.pk: status for status in Status.objects.all()} if self.as_of else {}
        self.users: dict = {}

    def load_owners(self, rows: list[Recommendation]) -> None:
        """Fetch the owners "as of" for ``rows`` in one query (nothing to do for now)."""
        if self.as_of:
            ids = {int(row.owner_as_of) for row in rows if row.owner_as_of} - set(self.users)
            self.users.update(get_user_model().objects.in_bulk(ids))

    def status(self, row) -> Status:
        return self.statuses[row.status_as_of] if self.as_of else row.status

    def owner(self, row):
        if not self.as_of:
            return row.owner
        return self.users.get(int(row.owner_as_of)) if row.owner_as_of else None

    def next_review(self, row) -> str:
        if self.as_of:
            return row.review_as_of
        return row.next_review.isoformat() if row.next_review else ""
