"""What happened afterwards: recommendations, their status vocabulary and their history.

Reads go through the QuerySet methods here; every write that changes a
recommendation's tracked fields goes through ``tracker.services`` so that it
leaves a history entry.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dialogue.models import Dialogue, Passage, Person, Theme


class Actor(models.Model):
    """Who a recommendation is addressed to: US, ROK, Japan, China, DPRK..."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.code


class Status(models.Model):
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    order = models.PositiveSmallIntegerField(unique=True)
    colour = models.CharField(
        max_length=7,
        help_text="Hex colour of the badge, e.g. #1f7a3d; the name is always shown too.",
    )
    progress = models.PositiveSmallIntegerField(help_text="Progress in percent, 0 to 100.")
    is_open = models.BooleanField(default=True, help_text="Closed statuses end the tracking.")
    definition = models.TextField(help_text="Shown to the analyst while choosing this status.")

    class Meta:
        ordering = ["order"]
        verbose_name_plural = "statuses"
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="status_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="status_colour_is_hex"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RecommendationQuerySet(models.QuerySet):
    def with_list_data(self) -> "RecommendationQuerySet":
        """Everything a list of recommendations shows, in a fixed number of queries."""
        return self.select_related("dialogue", "status", "owner").prefetch_related(
            "themes", "actors"
        )

    def overdue(self, today=None) -> "RecommendationQuerySet":
        today = today or timezone.localdate()
        return self.filter(next_review__lt=today, status__is_open=True)


class Recommendation(models.Model):
    class Priority(models.IntegerChoices):
        HIGH = 1, "High"
        MEDIUM = 2, "Medium"
        LOW = 3, "Low"

    # Changing one of these must leave a history entry: use tracker.services.
    TRACKED_FIELDS = ("status", "owner", "priority", "next_review")

    dialogue = models.ForeignKey(Dialogue, on_delete=models.PROTECT, related_name="recommendations")
    number = models.PositiveSmallIntegerField(help_text="Number in the report's list.")
    title = models.CharField(max_length=200, help_text="A short title for lists.")
    text = models.TextField(help_text="The full text, verbatim from the report.")
    actors = models.ManyToManyField(Actor, blank=True, related_name="recommendations")
    themes = models.ManyToManyField(Theme, blank=True, related_name="recommendations")
    passages = models.ManyToManyField(
        Passage, blank=True, related_name="recommendations", verbose_name="source passages"
    )
    consult = models.ManyToManyField(
        Person,
        blank=True,
        related_name="recommendations_to_champion",
        verbose_name="people to consult",
        help_text="Participants who can champion this recommendation.",
    )
    status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="recommendations")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_recommendations",
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    next_review = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # Bumped by every tracked change; a form based on an older version gets a conflict.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = RecommendationQuerySet.as_manager()

    class Meta:
        ordering = ["dialogue", "number"]
        permissions = [
            ("track_recommendation", "Can change status, owner, priority and review date"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dialogue", "number"], name="recommendation_unique_number_per_dialogue"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="recommendation_number_from_1"),
        ]
        indexes = [
            # List filter by status, sorted by number within it.
            models.Index(fields=["status", "dialogue", "number"], name="rec_status_idx"),
            # "My recommendations" and the owner filter, due first.
            models.Index(fields=["owner", "next_review"], name="rec_owner_review_idx"),
            # Overdue and "due for review" lists, sort by review date.
            models.Index(fields=["next_review"], name="rec_next_review_idx"),
            # Sort by last change.
            models.Index(fields=["-updated_at"], name="rec_updated_idx"),
            # The list's count under a status filter, from the index alone (no table rows).
            models.Index(fields=["status", "id"], name="rec_status_count_idx"),
            # The dashboard's trend: the recommendations made in its last months.
            models.Index(fields=["created_at"], name="rec_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def is_overdue(self) -> bool:
        """The review date has passed and the item is still open (reads ``status``)."""
        return bool(
            self.next_review and self.next_review < timezone.localdate() and self.status.is_open
        )


class StatusUpdate(models.Model):
    """A rated change of status. Immutable: a correction is a new update."""

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.PROTECT, related_name="status_updates"
    )
    from_status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="+")
    to_status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(help_text="The recommendation's version this produced.")
    rationale = models.TextField()
    evidence_source = models.TextField(blank=True)
    evidence_url = models.URLField(max_length=500, blank=True)
    evidence_date = models.DateField(null=True, blank=True, help_text="When the event happened.")
    # The chain of a recommendation's updates, for reading a past status from an index:
    # the first update after a moment is the one whose previous update (or none) is not.
    previous_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the recommendation's previous status update was made; empty for its first.",
    )

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(rationale=""), name="status_update_rationale_required"
            ),
        ]
        indexes = [
            # The timeline and "status as of a date" per recommendation: the last update up
            # to a moment, ties by id, is the first entry of one index range.
            models.Index(
                fields=["recommendation", "-at", "-id"], name="status_update_rec_at_id_idx"
            ),
            # "What changed since" and recent activity across all recommendations; with
            # "from" and "to", the dashboard's trend counts the moves since a month from
            # the index alone.
            models.Index(
                fields=["-at", "from_status", "to_status"], name="status_update_moves_idx"
            ),
            # The list as of a date filtered by status: the first update after the date
            # that left one of the statuses, from the index alone (history.status_as_of_in).
            models.Index(
                fields=["from_status", "at", "previous_at", "recommendation"],
                name="status_update_first_after_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Status updates are immutable; write a new update instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Status updates are immutable and cannot be deleted.")


class FieldChange(models.Model):
    """A change of owner, priority or next review date. Immutable, like status updates."""

    class Field(models.TextChoices):
        OWNER = "owner", "Owner"
        PRIORITY = "priority", "Priority"
        NEXT_REVIEW = "next_review", "Next review"

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.PROTECT, related_name="field_changes"
    )
    field = models.CharField(max_length=20, choices=Field.choices)
    # Machine values ("" for none) for rebuilding state; labels as they read then.
    old_value = models.CharField(max_length=100, blank=True)
    new_value = models.CharField(max_length=100, blank=True)
    old_label = models.CharField(max_length=200, blank=True)
    new_label = models.CharField(max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(help_text="The recommendation's version this produced.")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["recommendation", "-at"], name="field_change_rec_at_idx"),
            models.Index(fields=["-at"], name="field_change_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_field_display()}: {self.old_label or '—'} → {self.new_label or '—'}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("History entries are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("History entries are immutable and cannot be deleted.")


class Note(models.Model):
    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.PROTECT, related_name="notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    text = models.TextField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="note_text_required"),
        ]
        indexes = [
            models.Index(fields=["recommendation", "-created_at"], name="note_rec_created_idx"),
            # The dashboard's recent activity: the newest notes of all.
            models.Index(fields=["-created_at", "-id"], name="note_created_idx"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class LinkSuggestion(models.Model):
    """A link the importer proposes (a source passage, a theme, an actor) until an
    editor confirms it (it becomes a real link) or removes it."""

    class Kind(models.TextChoices):
        PASSAGE = "passage", "Source passage"
        THEME = "theme", "Theme"
        ACTOR = "actor", "Actor"

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="suggestions"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    passage = models.ForeignKey(Passage, on_delete=models.CASCADE, null=True, blank=True)
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, null=True, blank=True)
    actor = models.ForeignKey(Actor, on_delete=models.CASCADE, null=True, blank=True)
    score = models.FloatField(help_text="Similarity, 0 to 1.")
    reason = models.CharField(max_length=300, help_text="Why, in words: the shared terms.")

    class Meta:
        ordering = ["recommendation", "kind", "-score"]
        constraints = [
            # Exactly the target its kind names.
            models.CheckConstraint(
                condition=(
                    Q(kind="passage", passage__isnull=False, theme__isnull=True, actor__isnull=True)
                    | Q(kind="theme", theme__isnull=False, passage__isnull=True, actor__isnull=True)
                    | Q(kind="actor", actor__isnull=False, passage__isnull=True, theme__isnull=True)
                ),
                name="suggestion_one_target",
            ),
            models.UniqueConstraint(
                fields=["recommendation", "passage"], name="suggestion_unique_passage"
            ),
            models.UniqueConstraint(
                fields=["recommendation", "theme"], name="suggestion_unique_theme"
            ),
            models.UniqueConstraint(
                fields=["recommendation", "actor"], name="suggestion_unique_actor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.target} ({self.score:.2f})"

    @property
    def target(self):
        return self.passage or self.theme or self.actor
