"""The analyst's action forms. Each carries the version of the recommendation it was based on."""

import datetime

from django import forms
from django.utils import timezone

from tracker.filters import trackers
from tracker.models import Recommendation, Status

TEXT_LIMIT = 5000


class ActionForm(forms.Form):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, recommendation: Recommendation, **kwargs):
        kwargs.setdefault("initial", {})["version"] = recommendation.version
        super().__init__(*args, **kwargs)
        self.recommendation = recommendation
        self.prefix_id = self.__class__.__name__.removesuffix("Form").lower()

    def set_version(self, version: int) -> None:
        """Point the form at a newer version, keeping everything the user typed."""
        if self.is_bound:
            self.data = self.data.copy()
            self.data["version"] = str(version)
        self.initial["version"] = version


class StatusForm(ActionForm):
    status = forms.ModelChoiceField(
        queryset=Status.objects.all(), widget=forms.RadioSelect, label="New status"
    )
    rationale = forms.CharField(
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why the status changes: what happened, and what it means for the item.",
    )
    evidence_source = forms.CharField(
        max_length=1000,
        required=False,
        label="Evidence (source)",
        help_text="E.g. a statement, an agreement, an article.",
    )
    evidence_url = forms.URLField(
        max_length=500, required=False, label="Evidence (link)", assume_scheme="https"
    )
    evidence_date = forms.DateField(
        required=False,
        label="Date of the event",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_status(self):
        status = self.cleaned_data["status"]
        if status.pk == self.recommendation.status_id:
            raise forms.ValidationError(f"The recommendation is already “{status.name}”.")
        return status

    def clean_evidence_date(self):
        date = self.cleaned_data["evidence_date"]
        if date and date > timezone.localdate():
            raise forms.ValidationError("The event date cannot be in the future.")
        if date and date.year < 1900:
            raise forms.ValidationError("Give a date after 1900.")
        return date


class NoteForm(ActionForm):
    text = forms.CharField(
        max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3}), label="Note"
    )


class OwnerForm(ActionForm):
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="Nobody")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = trackers()
        self.fields["owner"].label_from_instance = lambda user: (
            user.get_full_name() or user.get_username()
        )


class PriorityForm(ActionForm):
    priority = forms.TypedChoiceField(choices=Recommendation.Priority.choices, coerce=int)


class ReviewForm(ActionForm):
    next_review = forms.DateField(
        required=False,
        label="Next review",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Leave empty for no review date.",
    )

    def clean_next_review(self):
        date = self.cleaned_data["next_review"]
        if date and not datetime.date(2000, 1, 1) <= date <= datetime.date(2100, 12, 31):
            raise forms.ValidationError("Give a date between 2000 and 2100.")
        return date
