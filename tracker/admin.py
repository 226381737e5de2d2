from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from dialogue.admin import BoundedDateHierarchy
from tracker import services
from tracker.forms import TEXT_LIMIT
from tracker.models import (
    Actor,
    FieldChange,
    LinkSuggestion,
    Note,
    Recommendation,
    Status,
    StatusUpdate,
)


@admin.register(Actor)
class ActorAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Status)
class StatusAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "colour", "progress", "is_open"]
    list_editable = ["order"]
    list_filter = ["is_open"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class ReadOnlyMixin:
    """History is immutable: visible in the admin, never edited or deleted there."""

    # The admin still builds a (read-only) form: give its URL field Django 6's scheme.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class StatusUpdateInline(ReadOnlyMixin, admin.TabularInline):
    model = StatusUpdate
    fields = [
        "at",
        "from_status",
        "to_status",
        "by",
        "rationale",
        "evidence_source",
        "evidence_url",
    ]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        # Each row's title is "from → to": without these, two queries a row.
        return super().get_queryset(request).select_related("from_status", "to_status", "by")


class FieldChangeInline(ReadOnlyMixin, admin.TabularInline):
    model = FieldChange
    fields = ["at", "field", "old_label", "new_label", "by"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class NoteInline(ReadOnlyMixin, admin.TabularInline):
    model = Note
    fields = ["created_at", "author", "text"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class RecommendationAdminForm(forms.ModelForm):
    # The same limits as the analysts' form (tracker.forms.StatusForm); the link's is the column's.
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=TEXT_LIMIT,
        help_text="Required when the status changes; recorded in the history.",
    )
    evidence_source = forms.CharField(required=False, max_length=1000)
    evidence_url = forms.URLField(required=False, max_length=500, assume_scheme="https")

    class Meta:
        model = Recommendation
        fields = [
            "dialogue",
            "number",
            "title",
            "text",
            "status",
            "owner",
            "priority",
            "next_review",
            "themes",
            "actors",
            "passages",
            "consult",
        ]

    def clean(self):
        cleaned = super().clean()
        changing_status = self.instance.pk and "status" in self.changed_data
        # A rationale refused for its length already has its message.
        if changing_status and "rationale" in cleaned and not cleaned["rationale"].strip():
            self.add_error("rationale", "Give a rationale for the status change.")
        return cleaned


class StatusChangeForm(forms.Form):
    status = forms.ModelChoiceField(queryset=Status.objects.all(), label="New status")
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), label="Rationale", max_length=TEXT_LIMIT
    )


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    form = RecommendationAdminForm
    list_display = ["number", "title", "dialogue", "status", "owner", "priority", "next_review"]
    list_display_links = ["number", "title"]
    list_filter = ["status", "priority", "dialogue", "themes", "actors", "owner"]
    search_fields = ["title", "text"]
    list_select_related = ["dialogue", "status", "owner"]
    autocomplete_fields = ["dialogue", "owner", "consult", "passages"]
    filter_horizontal = ["themes", "actors"]
    readonly_fields = ["version", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["dialogue", "number", "title", "text"]}),
        ("Tracking", {"fields": ["status", "rationale", "evidence_source", "evidence_url"]}),
        (None, {"fields": ["owner", "priority", "next_review"]}),
        ("Links", {"fields": ["themes", "actors", "passages", "consult"]}),
        ("Record", {"fields": ["version", "created_at", "updated_at"]}),
    ]
    inlines = [StatusUpdateInline, FieldChangeInline, NoteInline]
    actions = ["change_status"]
    list_per_page = 25  # as the app's list, so the benchmark compares the same page

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.save()
            return
        tracked = {f: form.cleaned_data[f] for f in obj.TRACKED_FIELDS if f in form.changed_data}
        untracked = [
            name
            for name in form.changed_data
            if name in {f.name for f in obj._meta.concrete_fields} and name not in tracked
        ]
        with transaction.atomic():
            if untracked:
                obj.updated_at = timezone.now()
                obj.save(update_fields=[*untracked, "updated_at"])
            if tracked:
                saved = services.recommendation_change(
                    recommendation=obj,
                    by=request.user,
                    rationale=form.cleaned_data["rationale"],
                    evidence_source=form.cleaned_data["evidence_source"],
                    evidence_url=form.cleaned_data["evidence_url"],
                    **tracked,
                )
                obj.version = saved.version

    @admin.action(description="Change status of selected recommendations…", permissions=["change"])
    def change_status(self, request: HttpRequest, queryset) -> HttpResponse | None:
        form = StatusChangeForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            changed = services.status_change_bulk(
                recommendations=queryset,
                to=form.cleaned_data["status"],
                by=request.user,
                rationale=form.cleaned_data["rationale"],
            )
            self.message_user(
                request,
                f"{changed} recommendation(s) moved to {form.cleaned_data['status']}.",
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/tracker/recommendation/change_status.html",
            {
                **self.admin_site.each_context(request),
                "title": "Change status",
                "opts": self.model._meta,
                "form": form,
                "recommendations": queryset.select_related("status"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(StatusUpdate)
class StatusUpdateAdmin(BoundedDateHierarchy, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "recommendation", "from_status", "to_status", "by"]
    list_filter = ["to_status", "from_status"]
    search_fields = ["rationale", "evidence_source", "recommendation__title"]
    list_select_related = ["recommendation", "from_status", "to_status", "by"]
    date_hierarchy = "at"


@admin.register(FieldChange)
class FieldChangeAdmin(BoundedDateHierarchy, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "recommendation", "field", "old_label", "new_label", "by"]
    list_filter = ["field"]
    search_fields = ["recommendation__title"]
    list_select_related = ["recommendation", "by"]
    date_hierarchy = "at"


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recommendation", "author", "__str__"]
    search_fields = ["text", "recommendation__title"]
    list_select_related = ["recommendation", "author"]
    readonly_fields = ["author", "created_at"]
    autocomplete_fields = ["recommendation"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "text":
            kwargs["max_length"] = TEXT_LIMIT  # as a note added on the recommendation's page
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)


@admin.register(LinkSuggestion)
class LinkSuggestionAdmin(admin.ModelAdmin):
    """Links the importer proposed; editors confirm them on the recommendation's page."""

    list_display = ["recommendation", "kind", "target", "score", "reason"]
    list_filter = ["kind", "recommendation__dialogue"]
    search_fields = ["recommendation__title", "reason"]
    list_select_related = ["recommendation", "passage", "theme", "actor"]
    readonly_fields = ["recommendation", "kind", "passage", "theme", "actor", "score", "reason"]

    def has_add_permission(self, request) -> bool:
        return False
