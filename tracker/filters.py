"""The recommendation list's filters and sorts, read from the query string.

Every value is validated as a form field: a bad value makes the filter set
invalid, and the list answers 400 with the reason instead of guessing.
"""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from dialogue.models import Dialogue, Theme
from tracker.models import Actor, Note, Recommendation, Status

SORTS = {
    "number": ("Number", ["-dialogue__date", "dialogue_id", "number"]),
    "status": ("Status", ["status__order", "-dialogue__date", "number"]),
    "review": ("Next review", [F("next_review").asc(nulls_last=True), "-dialogue__date", "number"]),
    "changed": ("Last change", ["-updated_at", "-id"]),
}


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


class OwnerField(forms.CharField):
    """ "me", "nobody" or a username."""

    def clean(self, value):
        value = super().clean(value)
        if value in ("", "me", "nobody"):
            return value
        if not get_user_model().objects.filter(username=value).exists():
            raise forms.ValidationError(f"There is no user called “{value}”.")
        return value


class OwnerFilter(django_filters.Filter):
    field_class = OwnerField

    def filter(self, qs, value):
        if not value:
            return qs
        if value == "me":
            return qs.filter(owner=self.parent.request.user)
        if value == "nobody":
            return qs.filter(owner__isnull=True)
        return qs.filter(owner__username=value)


class RecommendationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=200)
    status = django_filters.ModelMultipleChoiceFilter(
        queryset=Status.objects.all(),
        to_field_name="slug",
        field_name="status__slug",  # the predicate compares slugs, as the URL does
        label="Status",
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
        method="filter_overdue",
        label="Overdue only",
        widget=forms.CheckboxInput,
    )
    sort = django_filters.ChoiceFilter(
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        method="sort_by",
        label="Sort by",
        empty_label=None,
    )

    class Meta:
        model = Recommendation
        fields = ["q", "status", "theme", "actor", "owner", "dialogue", "overdue", "sort"]

    def search(self, queryset, name, value):
        """Words in the title, the text or any note: every word must match somewhere."""
        for word in value.split():
            in_notes = Note.objects.filter(recommendation=OuterRef("pk"), text__icontains=word)
            queryset = queryset.filter(
                Q(title__icontains=word) | Q(text__icontains=word) | Exists(in_notes)
            )
        return queryset

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.overdue(timezone.localdate())

    def sort_by(self, queryset, name, value):
        return queryset  # applied last, in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        sort = self.form.cleaned_data.get("sort") or "number"
        return queryset.order_by(*SORTS[sort][1])
