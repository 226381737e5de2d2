"""Fill a database with realistic synthetic data, in bulk, for benchmarks and demos."""

from __future__ import annotations

import datetime
import itertools
import random
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

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
from tracker.models import Actor, FieldChange, Note, Recommendation, Status, StatusUpdate

BATCH = 2000
SUBJECTS = [
    "The US",
    "The ROK",
    "Japan",
    "The US and the ROK",
    "The three governments",
    "China",
    "The allies",
    "Congress",
    "The National Assembly",
    "Both sides",
]
VERBS = [
    "should establish",
    "should expand",
    "should review",
    "must conclude",
    "should fund",
    "should coordinate",
    "should publish",
    "should convene",
    "should strengthen",
    "could explore",
]
OBJECTS = [
    "a standing consultation on extended deterrence",
    "a joint vision for the alliance",
    "a multi-year burden-sharing agreement",
    "trilateral maritime exercises",
    "a working group on economic coercion",
    "an envoy for humanitarian access",
    "regular parliamentary exchanges",
    "a crisis hotline with the DPRK",
    "cooperation on supply chains",
    "a review of sanctions enforcement",
]
CLAUSES = [
    "within two years",
    "before the next election",
    "with clear milestones",
    "in consultation with regional partners",
    "and report on progress annually",
    "without waiting for a breakthrough in talks",
    "building on existing mechanisms",
]
SENTENCES = [
    "Participants agreed that trust between the allies had eroded.",
    "A Korean participant noted that public support remains strong.",
    "An American participant argued that Congress could play a larger role.",
    "Several participants stressed the cost of inaction on deterrence.",
    "The discussion turned to China's economic leverage over the region.",
    "Participants were divided on the value of summit diplomacy.",
    "One participant suggested a phased approach to sanctions relief.",
]
GIVEN = [
    "Min-jun",
    "Seo-yeon",
    "James",
    "Emily",
    "Hiroshi",
    "Aiko",
    "Wei",
    "Anna",
    "David",
    "Ji-ho",
]
FAMILY = ["KIM", "LEE", "PARK", "CHOI", "SMITH", "JOHNSON", "TANAKA", "SATO", "WANG", "BROWN"]


def _text(rng: random.Random) -> str:
    return (
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(CLAUSES)}. "
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
    )


def _history_sizes(total: int, count: int, rng: random.Random) -> list[int]:
    """How many history entries each of ``count`` recommendations gets: skewed, as
    real ones are (most have a few, some many), and exactly ``total`` in all."""
    weights = [rng.expovariate(1) for _ in range(count)]
    # Each size is where the running share rounds to, less where the one before did:
    # the rounding is carried over, never lost, and the last one takes what is left.
    ends = list(itertools.accumulate(weights))
    marks = [min(total, round(total * end / (ends[-1] or 1))) for end in ends[:-1]] + [total]
    return [b - a for a, b in zip([0, *marks[:-1]], marks, strict=True)]


class Command(BaseCommand):
    help = (
        "Add synthetic dialogues, people, recommendations and years of status history, in bulk. "
        "Needs the status vocabulary (manage.py load_seed). 100,000 recommendations with "
        "1,000,000 history entries take a few minutes on PostgreSQL."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dialogues", type=int, default=100)
        parser.add_argument("--recommendations", type=int, default=10_000)
        parser.add_argument("--history", type=int, default=100_000, help="History entries in all.")
        parser.add_argument("--owners", type=int, default=30)
        parser.add_argument("--seed", type=int, default=1)

    def handle(
        self,
        *args,
        dialogues: int,
        recommendations: int,
        history: int,
        owners: int,
        seed: int,
        **options,
    ) -> None:
        statuses = list(Status.objects.order_by("order"))
        themes, actors = list(Theme.objects.all()), list(Actor.objects.all())
        if not statuses or not themes or not actors:
            raise CommandError("Load the vocabulary first: manage.py load_seed")
        if dialogues < 1 or recommendations < dialogues or history < 0:
            raise CommandError("Give at least one dialogue and one recommendation per dialogue.")
        rng = random.Random(seed)  # noqa: S311 - repeatable data, not secrets
        started = time.monotonic()
        now = timezone.now()
        run = f"{seed}-{int(now.timestamp())}"

        users = self._owners(owners, run)
        orgs = Organization.objects.bulk_create(
            Organization(name=f"Synthetic Institute {run}-{n}", kind="think_tank")
            for n in range(200)
        )
        people = Person.objects.bulk_create(
            Person(
                honorific=rng.choice(["Dr.", "Ms.", "Mr.", "Professor", "Ambassador"]),
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                name_order=rng.choice(["given_first", "family_first"]),
            )
            for _ in range(2000)
        )
        dialogue_rows = self._dialogues(dialogues, run, rng, orgs, people)
        self.stdout.write(f"{len(dialogue_rows)} dialogues in {time.monotonic() - started:.0f} s")

        sizes = _history_sizes(history, recommendations, rng)
        made = {"recommendations": 0, "status updates": 0, "other changes": 0, "notes": 0}
        # The first dialogue is an archive of up to 10,000 recommendations (an export of
        # 10,000 rows filters on it); the others hold the rest evenly.
        big = min(10_000, recommendations // 2) if len(dialogue_rows) > 1 else recommendations
        plan = [(*dialogue_rows[0], n) for n in range(1, big + 1)]
        others = dialogue_rows[1:] or dialogue_rows
        for index in range(recommendations - big):
            dialogue, passages = others[index % len(others)]
            plan.append((dialogue, passages, index // len(others) + 1))
        for start in range(0, recommendations, BATCH):
            batch = zip(plan[start : start + BATCH], sizes[start : start + BATCH], strict=True)
            counts = self._batch(batch, rng, statuses, themes, actors, users, now)
            for key, value in counts.items():
                made[key] += value
            self.stdout.write(
                f"{made['recommendations']} recommendations, "
                f"{made['status updates'] + made['other changes'] + made['notes']} history "
                f"entries ({time.monotonic() - started:.0f} s)"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Made {', '.join(f'{n} {k}' for k, n in made.items())} in "
                f"{time.monotonic() - started:.0f} s."
            )
        )

    def _owners(self, count: int, run: str) -> list:
        User = get_user_model()
        users = User.objects.bulk_create(
            User(
                username=f"analyst-{run}-{n}",
                first_name="Analyst",
                last_name=str(n),
                password=make_password(None),  # unusable: synthetic people never log in
            )
            for n in range(count)
        )
        group = Group.objects.get(name="Analyst")
        group.user_set.through.objects.bulk_create(
            group.user_set.through(group_id=group.pk, user_id=user.pk) for user in users
        )
        return users

    def _dialogues(self, count, run, rng, orgs, people):
        rows = []
        with transaction.atomic():
            for n in range(count):
                date = datetime.date(2015, 1, 1) + datetime.timedelta(days=rng.randint(0, 3650))
                dialogue = Dialogue.objects.create(
                    title=f"Synthetic Strategic Dialogue {run}-{n}",
                    slug=f"synthetic-{run}-{n}",
                    series="Synthetic Forum",
                    convener=rng.choice(orgs),
                    date=date,
                    format=rng.choice(["in_person", "video_conference", "hybrid"]),
                    track=rng.choice(["1", "1.5", "2"]),
                )
                Report.objects.create(
                    dialogue=dialogue,
                    title=f"Report of dialogue {n}",
                    author=rng.choice(people),
                    published=date.replace(day=1),
                    introduction=" ".join(rng.sample(SENTENCES, 3)),
                )
                CentralQuestion.objects.bulk_create(
                    CentralQuestion(
                        dialogue=dialogue, number=q, text=f"What are the priorities ({q})?"
                    )
                    for q in (1, 2)
                )
                passages = Passage.objects.bulk_create(
                    Passage(
                        dialogue=dialogue,
                        number=p,
                        anchor=f"passage-{p}",
                        text=" ".join(rng.sample(SENTENCES, 4)),
                    )
                    for p in range(1, 13)
                )
                Participation.objects.bulk_create(
                    Participation(
                        dialogue=dialogue,
                        person=person,
                        position=i,
                        role="observer" if i > 8 else "participant",
                        title="Senior Fellow",
                        organization=rng.choice(orgs),
                    )
                    for i, person in enumerate(rng.sample(people, 10), start=1)
                )
                rows.append((dialogue, passages))
        return rows

    def _batch(self, plan, rng, statuses, themes, actors, users, now):
        """One batch of recommendations with their whole history, in one transaction."""
        recs, histories = [], []
        for (dialogue, passages, number), size in plan:
            created = timezone.make_aware(
                datetime.datetime.combine(dialogue.date, datetime.time(12))
            ) + datetime.timedelta(days=rng.randint(10, 60))
            span = max((now - created).total_seconds(), 3600)
            events = sorted(rng.uniform(0, span) for _ in range(size))
            status, owner, review, priority = statuses[0], None, None, 2
            version, entries, last_status_at = 1, [], None
            for offset in events:
                at = created + datetime.timedelta(seconds=offset)
                who = rng.choice(users)
                kind = rng.random()
                if kind < 0.7:
                    to = rng.choice([s for s in statuses if s.pk != status.pk])
                    version += 1
                    entries.append(
                        StatusUpdate(
                            from_status=status,
                            to_status=to,
                            by=who,
                            at=at,
                            version=version,
                            rationale="Reviewed at the quarterly meeting.",
                            previous_at=last_status_at,
                        )
                    )
                    status, last_status_at = to, at
                elif kind < 0.9:
                    version += 1
                    if rng.random() < 0.5:
                        new = rng.choice(users)
                        entries.append(
                            FieldChange(
                                field="owner",
                                old_value=str(owner.pk) if owner else "",
                                old_label=owner.username if owner else "",
                                new_value=str(new.pk),
                                new_label=new.username,
                                by=who,
                                at=at,
                                version=version,
                            )
                        )
                        owner = new
                    else:
                        new_review = (at + datetime.timedelta(days=rng.randint(30, 240))).date()
                        entries.append(
                            FieldChange(
                                field="next_review",
                                old_value=review.isoformat() if review else "",
                                new_value=new_review.isoformat(),
                                new_label=new_review.isoformat(),
                                by=who,
                                at=at,
                                version=version,
                            )
                        )
                        review = new_review
                else:
                    entries.append(
                        Note(author=who, created_at=at, text="Checked with the desk officer.")
                    )
            last = max([created, *(getattr(e, "at", None) or e.created_at for e in entries)])
            recs.append(
                Recommendation(
                    dialogue=dialogue,
                    number=number,
                    title=f"Synthetic recommendation {number}",
                    text=_text(rng),
                    status=status,
                    owner=owner,
                    priority=priority,
                    next_review=review,
                    created_at=created,
                    updated_at=last,
                    version=version,
                )
            )
            histories.append((entries, passages))
        with transaction.atomic():
            recs = Recommendation.objects.bulk_create(recs)
            theme_links, actor_links, passage_links = [], [], []
            updates, changes, notes = [], [], []
            for rec, (entries, passages) in zip(recs, histories, strict=True):
                for theme in rng.sample(themes, rng.randint(1, 2)):
                    theme_links.append(
                        Recommendation.themes.through(recommendation_id=rec.pk, theme_id=theme.pk)
                    )
                for actor in rng.sample(actors, rng.randint(1, 2)):
                    actor_links.append(
                        Recommendation.actors.through(recommendation_id=rec.pk, actor_id=actor.pk)
                    )
                for passage in rng.sample(passages, rng.randint(1, 2)):
                    passage_links.append(
                        Recommendation.passages.through(
                            recommendation_id=rec.pk, passage_id=passage.pk
                        )
                    )
                for entry in entries:
                    entry.recommendation = rec
                    {StatusUpdate: updates, FieldChange: changes, Note: notes}[type(entry)].append(
                        entry
                    )
            Recommendation.themes.through.objects.bulk_create(theme_links)
            Recommendation.actors.through.objects.bulk_create(actor_links)
            Recommendation.passages.through.objects.bulk_create(passage_links)
            StatusUpdate.objects.bulk_create(updates, batch_size=5000)
            FieldChange.objects.bulk_create(changes, batch_size=5000)
            Note.objects.bulk_create(notes, batch_size=5000)
        return {
            "recommendations": len(recs),
            "status updates": len(updates),
            "other changes": len(changes),
            "notes": len(notes),
        }
