"""Small helpers that build test data in code."""

import datetime
import itertools

from django.contrib.auth.models import Group, User

from dialogue.models import Dialogue, Organization, Passage, Person, Theme
from tracker.models import Recommendation, Status

_counter = itertools.count(1)


def make_user(username: str | None = None, *, role: str | None = None, **fields) -> User:
    """A user with a known password ("pw-" + username), in the group ``role`` if given."""
    username = username or f"user{next(_counter)}"
    user = User.objects.create_user(username=username, password=f"pw-{username}", **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_status(name: str | None = None, **fields) -> Status:
    n = next(_counter)
    name = name or f"Status {n}"
    defaults = {
        "slug": f"status-{n}",
        "order": 1000 + n,
        "colour": "#333333",
        "progress": 0,
        "definition": f"{name}.",
    }
    return Status.objects.create(name=name, **{**defaults, **fields})


def make_dialogue(title: str | None = None, **fields) -> Dialogue:
    n = next(_counter)
    convener, _ = Organization.objects.get_or_create(name="Test Convener")
    defaults = {
        "slug": f"dialogue-{n}",
        "convener": convener,
        "date": datetime.date(2024, 1, 1) + datetime.timedelta(days=n),
    }
    return Dialogue.objects.create(title=title or f"Dialogue {n}", **{**defaults, **fields})


def make_person(family_name: str = "DOE", given_name: str = "Jane", **fields) -> Person:
    return Person.objects.create(family_name=family_name, given_name=given_name, **fields)


def make_passage(dialogue: Dialogue, number: int, text: str = "A passage.") -> Passage:
    return Passage.objects.create(
        dialogue=dialogue, number=number, anchor=f"passage-{number}", text=text
    )


def make_theme(name: str | None = None) -> Theme:
    n = next(_counter)
    return Theme.objects.create(name=name or f"Theme {n}", slug=f"theme-{n}")


def make_recommendation(
    dialogue: Dialogue | None = None, *, status: Status | None = None, **fields
) -> Recommendation:
    dialogue = dialogue or make_dialogue()
    number = fields.pop("number", None) or (dialogue.recommendations.count() + 1)
    return Recommendation.objects.create(
        dialogue=dialogue,
        number=number,
        title=fields.pop("title", f"Recommendation {number}"),
        text=fields.pop("text", f"The full text of recommendation {number}."),
        status=status or Status.objects.order_by("order").first() or make_status("Not started"),
        **fields,
    )


def make_history(recommendations, *, seed: int = 1, start=None, days: int = 900) -> None:
    """Random status, owner and review changes, in time order, through the services.

    Statuses go forwards and back; some recommendations never change. Each change comes
    after its recommendation's creation, as in the app.
    """
    import random

    from django.utils import timezone

    from tracker import services

    rng = random.Random(seed)
    start = start or timezone.now() - datetime.timedelta(days=days + 5)
    statuses = list(Status.objects.all())
    owners = [make_user(role="Analyst") for _ in range(3)]
    end = start + datetime.timedelta(days=days)
    events = []
    for recommendation in recommendations:
        begin = max(start, recommendation.created_at)  # nothing happens before the creation
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5]) if begin < end else 0):
            events.append((begin + (end - begin) * rng.uniform(0.001, 1), recommendation.pk))
    for at, pk in sorted(events):
        current = Recommendation.objects.get(pk=pk)
        choice = rng.random()
        if choice < 0.6:
            to = rng.choice([s for s in statuses if s.pk != current.status_id])
            services.status_change(
                recommendation=current, to=to, by=owners[0], rationale="Moved.", at=at
            )
        elif choice < 0.85:
            services.recommendation_change(
                recommendation=current, by=owners[1], owner=rng.choice([None, *owners]), at=at
            )
        else:
            services.recommendation_change(
                recommendation=current,
                by=owners[2],
                next_review=(at + datetime.timedelta(days=rng.randint(-30, 200))).date(),
                at=at,
            )


def list_all_ids(client, url: str) -> list[int]:
    """The ids a list URL shows across all its pages, following the Next links."""
    ids, after = [], None
    while True:
        separator = "&" if "?" in url else "?"
        response = client.get(f"{url}{separator}after={after}" if after else url)
        assert response.status_code == 200, url
        page = response.context["page"]
        ids += [row.pk for row in page.object_list]
        if not page.has_next():
            return ids
        after = page.next_after
