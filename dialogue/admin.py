from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count

from dialogue.models import (
    CentralQuestion,
    Dialogue,
    Organization,
    Participation,
    Passage,
    Person,
    Report,
    Theme,
)


class _BoundedDateChangeList(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as error:
            raise IncorrectLookupParameters(error) from error


class BoundedDateHierarchy:
    """For a ModelAdmin with ``date_hierarchy``: Django's change list turns a year such as
    9999 or 10**20 in the query string into a 500 (the next year does not exist); here it
    is a bad filter, which the admin answers as it does any other."""

    def get_changelist(self, request, **kwargs):
        return _BoundedDateChangeList


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "country"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "short_name"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["family_name", "given_name", "honorific", "name_order", "dialogue_count"]
    list_filter = ["name_order", "honorific"]
    search_fields = ["family_name", "given_name", "participations__organization__name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(dialogue_count=Count("participations"))

    @admin.display(description="dialogues", ordering="dialogue_count")
    def dialogue_count(self, person: Person) -> int:
        return person.dialogue_count


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class ReportInline(admin.StackedInline):
    model = Report
    autocomplete_fields = ["author"]
    max_num = 1


class CentralQuestionInline(admin.TabularInline):
    model = CentralQuestion
    extra = 0


class ParticipationInline(admin.TabularInline):
    model = Participation
    autocomplete_fields = ["person", "organization"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person", "dialogue", "organization")


class PassageInline(admin.StackedInline):
    model = Passage
    filter_horizontal = ["themes"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("themes")


@admin.register(Dialogue)
class DialogueAdmin(BoundedDateHierarchy, admin.ModelAdmin):
    list_display = ["title", "date", "series", "convener", "format", "track"]
    list_filter = ["track", "format", "series"]
    search_fields = ["title", "series", "convener__name"]
    date_hierarchy = "date"
    list_select_related = ["convener"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["convener", "supporters"]
    inlines = [ReportInline, CentralQuestionInline, ParticipationInline, PassageInline]


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    list_display = ["person", "dialogue", "role", "title", "organization", "position"]
    list_filter = ["role", "dialogue"]
    search_fields = ["person__family_name", "person__given_name", "title", "organization__name"]
    list_select_related = ["person", "dialogue", "organization"]
    autocomplete_fields = ["person", "organization", "dialogue"]


@admin.register(Passage)
class PassageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "dialogue", "number", "anchor"]
    list_filter = ["dialogue", "themes"]
    search_fields = ["text", "anchor"]
    list_select_related = ["dialogue"]
    filter_horizontal = ["themes"]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["title", "dialogue", "author", "published"]
    search_fields = ["title", "introduction"]
    list_select_related = ["dialogue", "author"]
    autocomplete_fields = ["author", "dialogue"]


@admin.register(CentralQuestion)
class CentralQuestionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "dialogue", "number"]
    list_filter = ["dialogue"]
    search_fields = ["text"]
    list_select_related = ["dialogue"]
