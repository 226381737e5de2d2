"""Suggested links for imported recommendations, with the reason in words.

A plain TF-IDF cosine between the recommendation and each summary passage of its
dialogue (and each theme's name and description); an actor is suggested when the
text names it. Simple enough to explain in one line on the page: the shared terms.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from django.db import transaction

from dialogue.models import Dialogue, Theme
from tracker.models import Actor, LinkSuggestion

PASSAGES_PER_RECOMMENDATION = 3
THEMES_PER_RECOMMENDATION = 2
MIN_PASSAGE_SCORE = 0.10
MIN_THEME_SCORE = 0.08
_STOP = """
a about above after again against all also an and any are as at be because been before
being between both but by can could did do does doing down during each even few for from
further had has have having he her here hers him his how i if in into is it its itself just
more most must my no nor not now of off on once only or other our out over own same she
should so some such than that the their them then there these they this those through to
too under until up very was we were what when where which while who whom why will with
would you your one two may might many much well whether within without however including
participant participants said noted suggested felt seen
"""
STOP_WORDS = frozenset(_STOP.split())


def _normalise(text: str) -> str:
    return re.sub(r"\bU\.S\.", "US", text)


def terms(text: str) -> list[str]:
    words = re.findall(r"[a-z][a-z0-9]+", _normalise(text).lower().replace("'s", ""))
    stems = []
    for word in words:
        if word in STOP_WORDS or (len(word) < 3 and word not in {"us"}):
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        stems.append(word)
    return stems


def _vectors(documents: list[str]) -> list[dict[str, float]]:
    counts = [Counter(terms(document)) for document in documents]
    frequency = Counter(term for count in counts for term in count)
    total = len(documents)
    vectors = []
    for count in counts:
        vector = {t: n * math.log((1 + total) / (1 + frequency[t])) for t, n in count.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({t: v / norm for t, v in vector.items()})
    return vectors


def _similarity(a: dict[str, float], b: dict[str, float]) -> tuple[float, list[str]]:
    shared = {t: a[t] * b[t] for t in a.keys() & b.keys()}
    top = sorted(shared, key=shared.get, reverse=True)[:4]
    return sum(shared.values()), top


def suggestions_make(dialogue: Dialogue) -> int:
    """(Re)compute the suggestions for every recommendation of ``dialogue``. Returns how many."""
    recommendations = list(
        dialogue.recommendations.prefetch_related("passages", "themes", "actors")
    )
    passages = list(dialogue.passages.order_by("number"))
    themes = list(Theme.objects.all())
    actors = list(Actor.objects.all())
    documents = [r.text for r in recommendations] + [p.text for p in passages]
    documents += [f"{t.name} {t.name} {t.description}" for t in themes]
    vectors = _vectors(documents)
    rec_vectors = vectors[: len(recommendations)]
    passage_vectors = vectors[len(recommendations) : len(recommendations) + len(passages)]
    theme_vectors = vectors[len(recommendations) + len(passages) :]

    suggestions = []
    for recommendation, vector in zip(recommendations, rec_vectors, strict=True):
        linked_passages = {p.pk for p in recommendation.passages.all()}
        linked_themes = {t.pk for t in recommendation.themes.all()}
        linked_actors = {a.pk for a in recommendation.actors.all()}
        for kind, targets, target_vectors, limit, minimum, linked in (
            (LinkSuggestion.Kind.PASSAGE, passages, passage_vectors,
             PASSAGES_PER_RECOMMENDATION, MIN_PASSAGE_SCORE, linked_passages),
            (LinkSuggestion.Kind.THEME, themes, theme_vectors,
             THEMES_PER_RECOMMENDATION, MIN_THEME_SCORE, linked_themes),
        ):  # fmt: skip
            scored = sorted(
                (
                    (*_similarity(vector, target_vector), target)
                    for target, target_vector in zip(targets, target_vectors, strict=True)
                ),
                key=lambda item: item[0],
                reverse=True,
            )
            for score, shared, target in scored[:limit]:
                if score >= minimum and target.pk not in linked:
                    suggestions.append(
                        LinkSuggestion(
                            recommendation=recommendation,
                            kind=kind,
                            **{kind.value: target},
                            score=round(score, 3),
                            reason=f"shares the terms {', '.join(shared)}",
                        )
                    )
        text = _normalise(recommendation.text)
        for actor in actors:
            names = [actor.code, actor.name]
            if actor.pk not in linked_actors and any(
                re.search(rf"\b{re.escape(name)}\b", text) for name in names
            ):
                suggestions.append(
                    LinkSuggestion(
                        recommendation=recommendation,
                        kind=LinkSuggestion.Kind.ACTOR,
                        actor=actor,
                        score=1.0,
                        reason=f"the text names {actor.code}",
                    )
                )
    with transaction.atomic():
        LinkSuggestion.objects.filter(recommendation__dialogue=dialogue).delete()
        LinkSuggestion.objects.bulk_create(suggestions)
    return len(suggestions)


def suggestion_confirm(suggestion: LinkSuggestion) -> None:
    """Make the suggested link real and drop the suggestion."""
    with transaction.atomic():
        relation = {
            LinkSuggestion.Kind.PASSAGE: "passages",
            LinkSuggestion.Kind.THEME: "themes",
            LinkSuggestion.Kind.ACTOR: "actors",
        }[suggestion.kind]
        getattr(suggestion.recommendation, relation).add(suggestion.target)
        suggestion.delete()
