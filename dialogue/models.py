"""What happened in the room: the dialogue, its report and the people who were there."""

from django.db import models
from django.db.models import F
from django.db.models.functions import Lower


class Organization(models.Model):
    class Kind(models.TextChoices):
        THINK_TANK = "think_tank", "Think tank"
        GOVERNMENT = "government", "Government"
        LEGISLATURE = "legislature", "Legislature"
        UNIVERSITY = "university", "University"
        FOUNDATION = "foundation", "Foundation"
        COMPANY = "company", "Company"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=50, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    country = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    class NameOrder(models.TextChoices):
        GIVEN_FIRST = "given_first", "Given name first (Emma CHANLETT-AVERY)"
        FAMILY_FIRST = "family_first", "Family name first (CHOI Kang)"

    honorific = models.CharField(
        max_length=50, blank=True, help_text="As printed: Ms., Dr., Ambassador, The Honorable..."
    )
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(
        max_length=100, help_text="As printed; reports set family names in capitals."
    )
    name_order = models.CharField(
        max_length=20, choices=NameOrder.choices, default=NameOrder.GIVEN_FIRST
    )

    class Meta:
        verbose_name_plural = "people"
        # Lists sort by family name, as a report's "alphabetical order" does.
        ordering = [Lower("family_name"), Lower("given_name"), "id"]
        indexes = [
            # The people list and the admin sort and search by family name.
            models.Index(Lower("family_name"), Lower("given_name"), name="person_family_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the order the person writes it: "CHOI Kang", "Emma CHANLETT-AVERY"."""
        if self.name_order == self.NameOrder.FAMILY_FIRST:
            parts = [self.family_name, self.given_name]
        else:
            parts = [self.given_name, self.family_name]
        return " ".join(part for part in parts if part)

    @property
    def full_name(self) -> str:
        """The name with its honorific, as a participant list prints it."""
        return f"{self.honorific} {self.name}".strip()


class Theme(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Dialogue(models.Model):
    class Format(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIDEO_CONFERENCE = "video_conference", "Video conference"
        HYBRID = "hybrid", "Hybrid"

    class Track(models.TextChoices):
        TRACK_1 = "1", "Track I"
        TRACK_1_5 = "1.5", "Track 1.5"
        TRACK_2 = "2", "Track II"

    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=120, unique=True)
    series = models.CharField(
        max_length=200, blank=True, help_text="Series or forum, e.g. Forum on Asia-Pacific Security"
    )
    convener = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="convened_dialogues"
    )
    date = models.DateField()
    format = models.CharField(max_length=20, choices=Format.choices, default=Format.IN_PERSON)
    track = models.CharField(max_length=3, choices=Track.choices, default=Track.TRACK_2)
    location = models.CharField(max_length=200, blank=True)
    supporters = models.ManyToManyField(
        Organization, blank=True, related_name="supported_dialogues"
    )

    class Meta:
        ordering = ["-date", "title"]
        indexes = [
            # The recommendation list's default sort, newest dialogue first: with it the
            # database walks dialogues by date and stops after a page (no full sort).
            models.Index(F("date").desc(), "id", name="dialogue_date_id_idx"),
        ]
        constraints = [
            # The importer matches a report it has seen by title and date.
            models.UniqueConstraint(fields=["title", "date"], name="dialogue_unique_title_date"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.date:%d %B %Y})"


class Report(models.Model):
    dialogue = models.OneToOneField(Dialogue, on_delete=models.CASCADE, related_name="report")
    title = models.CharField(max_length=300)
    author = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    published = models.DateField(help_text="Publication month; the day is ignored.")
    introduction = models.TextField()
    recommendations_intro = models.TextField(
        blank=True, help_text="The sentence that leads from the questions to the recommendations."
    )

    def __str__(self) -> str:
        return self.title


class CentralQuestion(models.Model):
    dialogue = models.ForeignKey(Dialogue, on_delete=models.CASCADE, related_name="questions")
    number = models.PositiveSmallIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["dialogue", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["dialogue", "number"], name="question_unique_number_per_dialogue"
            ),
        ]

    def __str__(self) -> str:
        return f"Q{self.number}: {self.text[:60]}"


class Participation(models.Model):
    """A person at a dialogue, with the title and organization they held *then*."""

    class Role(models.TextChoices):
        PARTICIPANT = "participant", "Participant"
        OBSERVER = "observer", "Observer"

    dialogue = models.ForeignKey(Dialogue, on_delete=models.CASCADE, related_name="participations")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="participations")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PARTICIPANT)
    title = models.CharField(max_length=300, blank=True, help_text="As printed in the report.")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="participations"
    )
    position = models.PositiveSmallIntegerField(help_text="Order in the printed list.")

    class Meta:
        # Participants before observers, each list in its printed order.
        ordering = ["dialogue", "-role", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["dialogue", "person"], name="participation_once_per_dialogue"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} at {self.dialogue.title} ({self.get_role_display()})"


class Passage(models.Model):
    """One paragraph of a report's discussion summary.

    Statements in passages keep the Chatham House rule: the app never links a
    passage to a named person.
    """

    dialogue = models.ForeignKey(Dialogue, on_delete=models.CASCADE, related_name="passages")
    number = models.PositiveSmallIntegerField(help_text="Order in the summary.")
    anchor = models.SlugField(
        max_length=50, help_text="Stable link target on the dialogue page; never reused."
    )
    text = models.TextField()
    themes = models.ManyToManyField(Theme, blank=True, related_name="passages")

    class Meta:
        ordering = ["dialogue", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["dialogue", "number"], name="passage_unique_number_per_dialogue"
            ),
            models.UniqueConstraint(
                fields=["dialogue", "anchor"], name="passage_unique_anchor_per_dialogue"
            ),
        ]

    def __str__(self) -> str:
        return f"¶{self.number}: {self.text[:60]}"
