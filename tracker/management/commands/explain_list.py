"""EXPLAIN ANALYZE the list's queries for every filter and sort, on the current database.

    manage.py explain_list                      # every filter and sort, a Markdown table
    manage.py explain_list "status=stalled"     # some query strings
    manage.py explain_list --plans              # with the full plans

For each query string it runs the list's first page and its capped count exactly
as the list does (``tracker.filters`` and ``tracker.pagination``), and reports the
database's own time for each and which large tables a step scanned sequentially
(recommendations or history; with a LIMIT such a scan may stop early). ``bench/run`` runs it at each
scale and keeps the table beside its figures.
"""

from __future__ import annotations

import datetime
import re

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.http import QueryDict
from django.test import RequestFactory
from django.utils import timezone

from dialogue.models import Dialogue, Theme
from tracker import pagination
from tracker.filters import SORTS, filter_rows
from tracker.models import Actor, Recommendation, Status
from tracker.views import PAGE_SIZE

LARGE_TABLES = ("tracker_recommendation", "tracker_statusupdate", "tracker_fieldchange")


def default_queries() -> list[str]:
    """One query string per filter (with a real value from the data) and per sort."""
    today = timezone.localdate()
    status = Status.objects.order_by("order").values_list("slug", flat=True)[1]
    theme = Theme.objects.order_by("pk").values_list("slug", flat=True).first()
    actor = Actor.objects.order_by("pk").values_list("code", flat=True).first()
    dialogue = Dialogue.objects.order_by("-date").values_list("slug", flat=True).first()
    owner = (
        Recommendation.objects.exclude(owner=None).values_list("owner__username", flat=True).first()
    )
    year_ago = (today - datetime.timedelta(days=365)).isoformat()
    two_years_ago = (today - datetime.timedelta(days=730)).isoformat()
    return [
        "",
        f"status={status}",
        f"theme={theme}",
        f"status={status}&theme={theme}",
        f"actor={actor}",
        "owner=nobody",
        f"owner={owner}",
        f"dialogue={dialogue}",
        "overdue=on",
        "stale=on",
        f"changed_since={year_ago}",
        "q=deterrence",
        f"as_of={two_years_ago}",
        f"as_of={two_years_ago}&status={status}",
        f"as_of={two_years_ago}&overdue=on",
        f"as_of={two_years_ago}&stale=on",
        *(f"sort={sort}" for sort in SORTS if sort != "number"),
        *(f"as_of={two_years_ago}&sort={sort}" for sort in SORTS if sort != "number"),
    ]


class Command(BaseCommand):
    help = "EXPLAIN ANALYZE the recommendation list's queries for every filter and sort."

    def add_arguments(self, parser):
        parser.add_argument("queries", nargs="*", help="query strings (default: one a filter)")
        parser.add_argument("--plans", action="store_true", help="print the full plans")

    def handle(self, *args, queries, plans, **options):
        user = get_user_model().objects.filter(is_superuser=True).first()
        if user is None:
            raise CommandError("A superuser is needed (the owner=me filter reads the user).")
        request = RequestFactory().get("/recommendations/")
        request.user = user
        self.stdout.write("| query | first page (ms) | count (ms) | sequential scans |")
        self.stdout.write("| --- | --- | --- | --- |")
        for query in queries or default_queries():
            filterset, rows = filter_rows(
                QueryDict(query), Recommendation.objects.with_list_data(), request
            )
            if rows is None:
                raise CommandError(f"{query!r}: {filterset.errors.as_text()}")
            first = pagination.page_rows(rows, filterset.sort_keys, PAGE_SIZE)
            count = pagination.capped_count(rows)
            timings, scans = [], set()
            for queryset in (first, count):
                plan = self._explain(queryset)
                timings.append(self._execution_ms(plan))
                scans |= {
                    t for t in LARGE_TABLES if re.search(rf"Seq Scan on {t}\b|SCAN {t}\b", plan)
                }
                if plans:
                    self.stdout.write(f"\n{query or '(no filter)'}:\n{plan}\n")
            self.stdout.write(
                f"| `{query or '(no filter)'}` | {timings[0]} | {timings[1]} | "
                f"{', '.join(sorted(scans)) or 'none'} |"
            )

    @staticmethod
    def _explain(queryset) -> str:
        if connection.vendor == "postgresql":
            return queryset.explain(analyze=True)
        return queryset.explain()  # SQLite has no ANALYZE option: the plan only

    @staticmethod
    def _execution_ms(plan: str) -> str:
        found = re.search(r"Execution Time: ([\d.]+) ms", plan)
        return found.group(1) if found else "n/a"
